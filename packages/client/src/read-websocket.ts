/**
 * Live reads over the session WebSocket (`GET .../ws?offset=`). The server
 * sends `{"type":"events","events":[...],"nextOffset"}` frames; this reader
 * keeps the same invariants as SSE (see event-stream.ts): exactly once, in
 * order, resuming from the last `nextOffset` after any close.
 *
 * Browsers cannot set headers on a WebSocket, so `createClient({ headers })`
 * does not apply here; put auth in the URL or a cookie.
 */
import { createBackoff } from "./backoff.ts";
import { abortReason, badResponse, DurableAgentsClientError, isRecord } from "./errors.ts";
import { buildUrl, type HttpContext } from "./http.ts";
import {
  advance,
  checkEvents,
  paceIdleReconnect,
  type Reader,
  retryOrThrow,
} from "./reader-kit.ts";

export const readWebSocket: Reader = async function* (ctx, path, position, options) {
  const { signal } = options;
  const backoff = createBackoff(options.retry);
  for (;;) {
    let progressed = false;
    let delivered = false;
    const openedAt = Date.now();
    try {
      const url = buildUrl(ctx, path, { offset: position.offset }).replace(/^http/, "ws");
      for await (const frame of socketFrames(ctx, url, signal)) {
        if (!isRecord(frame)) throw badResponse(`${path} sent a frame that is not an object`, 101);
        if (frame.type === "error") throw frameError(frame.error);
        if (frame.type !== "events") continue; // acks and future frame types
        const before = position.delivered;
        yield* advance(position, checkEvents(frame.events, path, 101));
        if (position.delivered !== before) delivered = true;
        if (typeof frame.nextOffset === "string") position.offset = frame.nextOffset;
        if (frame.upToDate === true) position.upToDate = true;
        progressed = true;
        backoff.reset();
        if (frame.streamClosed === true) {
          position.closed = true;
          return;
        }
      }
    } catch (error) {
      await retryOrThrow(ctx, error, backoff, signal);
      continue;
    }
    if (!progressed) {
      const error = new DurableAgentsClientError(
        "network_error",
        `${ctx.baseUrl} closed the WebSocket before sending anything`,
        { status: 0 },
      );
      await retryOrThrow(ctx, error, backoff, signal);
    } else if (!delivered) {
      await paceIdleReconnect(openedAt, signal);
    }
  }
};

function frameError(error: unknown): DurableAgentsClientError {
  if (isRecord(error) && typeof error.code === "string" && typeof error.message === "string") {
    const status = typeof error.status === "number" ? error.status : 400;
    const details = isRecord(error.details) ? error.details : undefined;
    return new DurableAgentsClientError(error.code, error.message, { status, details });
  }
  return badResponse("the server sent an error frame without code and message", 101);
}

/**
 * One socket as an async iterable of parsed JSON frames. Frames received
 * before a close are all yielded; then a clean close (1000/1001) ends the
 * iteration and any other close throws a retryable network error.
 */
async function* socketFrames(
  ctx: HttpContext,
  url: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<unknown, void, undefined> {
  const Socket = ctx.WebSocket ?? globalThis.WebSocket;
  if (Socket === undefined) {
    throw new DurableAgentsClientError(
      "unsupported",
      "this runtime has no WebSocket; pass createClient({ WebSocket }) or use transport: 'sse'",
      { status: 0, retryable: false },
    );
  }
  if (signal?.aborted) throw abortReason(signal);
  const socket = new Socket(url);
  socket.binaryType = "arraybuffer";
  const decoder = new TextDecoder();
  const queue: unknown[] = [];
  let closed = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  socket.onmessage = (message: MessageEvent) => {
    const text = typeof message.data === "string" ? message.data : decoder.decode(message.data);
    try {
      queue.push(JSON.parse(text));
    } catch {
      failure ??= badResponse(`WebSocket frame is not JSON: ${text.slice(0, 200)}`, 101);
    }
    notify();
  };
  socket.onclose = (event: CloseEvent) => {
    closed = true;
    if (event.code !== 1000 && event.code !== 1001) {
      const why = event.reason === "" ? "" : `: ${event.reason}`;
      failure ??= new DurableAgentsClientError(
        "network_error",
        `WebSocket to ${ctx.baseUrl} closed with code ${event.code}${why}`,
        { status: 0 },
      );
    }
    notify();
  };
  // A failed handshake fires `error` and may never fire `close` (undici), so both end the wait.
  socket.onerror = () => {
    failure ??= new DurableAgentsClientError(
      "network_error",
      `cannot open a WebSocket to ${ctx.baseUrl} (unreachable, or the server refused the upgrade)`,
      { status: 0 },
    );
    notify();
  };
  const onAbort = () => {
    failure = abortReason(signal as AbortSignal);
    notify();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      if (queue.length > 0) {
        yield queue.shift();
        continue;
      }
      if (failure !== undefined) throw failure;
      if (closed) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (socket.readyState === socket.CONNECTING || socket.readyState === socket.OPEN) {
      socket.close(1000);
    }
  }
}
