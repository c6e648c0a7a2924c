/**
 * The session WebSocket (`GET .../ws?offset=`), read and written: ledger
 * events in, commands out, over one socket that reconnects by itself.
 *
 * Frames (server → client): `{"type":"flow","windowBytes"}` first;
 * `{"type":"events","events","nextOffset","upToDate"}`;
 * `{"type":"result","id","ok","result"|"error"}` answers one command;
 * `{"type":"error","error"}` is fatal for the subscription; `{"type":"pong"}`;
 * `{"type":"closing","code","reason"}` right before a close the server makes.
 * Client → server: `{"type":"start"|"interrupt"|"abort"|"resume","id",...}`, `{"type":"ping"}`,
 * `{"type":"ack","offset"}`.
 *
 * Invariants (with those of event-stream.ts for reading):
 * 1. A command is sent only on an open socket and settles exactly once: by
 *    its `result` frame, or with `network_error` if the socket closes first
 *    (the server may or may not have applied it; check `status()`).
 * 2. A socket that shows no frame for two heartbeats is closed and replaced,
 *    so an idle connection cannot die silently.
 * 3. Flow control (docs/delivery.md): once the events frames the caller has taken (every event
 *    yielded, and the next one asked for) add up to half the server's `windowBytes` since the
 *    last ack, the client acks the last one's `nextOffset`: a few acks per window. A caller
 *    that stops reading stops the acks, so the server pauses the socket instead of buffering;
 *    its close for a slow reader (4008) is a clean end, and the next socket resumes from the
 *    offset of the last event yielded, so nothing is lost or seen twice.
 * 4. A `closing` frame ends the socket as the close it names would (`closeFailure`), when the
 *    caller reaches it (after every frame before it): a clean close (1000, 1001, 4008) ends the
 *    socket's iteration, so the next one opens from the position (at once after a socket that
 *    delivered events; else paced, `#follow`, so a close on every connect is no tight loop), and
 *    any other throws.
 *    The close event, which through a proxy may come seconds later (`wrangler dev` with Node's
 *    WebSocket), then finds that iteration over and changes nothing: one reconnect per close.
 *
 * Browsers cannot set headers on a WebSocket, so `createClient({ headers })`
 * does not apply here; put auth in the URL or a cookie.
 */
import { createBackoff } from "./backoff.ts";
import {
  abortReason,
  badResponse,
  connectionLost,
  DurableAgentsClientError,
  isRecord,
} from "./errors.ts";
import type { EventsOptions } from "./event-stream.ts";
import {
  buildUrl,
  type HttpContext,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./http.ts";
import {
  advance,
  checkEvents,
  paceIdleReconnect,
  type ReaderState,
  retryOrThrow,
} from "./reader-kit.ts";
import type { LedgerEvent } from "./types.ts";

export interface SocketOptions extends EventsOptions {
  /** Interval of client pings; a socket silent for two intervals is replaced. Default 30 000 ms. */
  readonly heartbeatMs?: number;
}

/** The server's close of a socket that stayed at its flow-control window: reconnect at once. */
const SLOW_READER_CLOSE = 4008;

/**
 * What a close does to the socket's iteration (invariant 4): nothing for a clean one (1000, 1001
 * going away, and a slow reader's 4008, invariant 3), which ends it to reconnect from the
 * position; any other is a lost connection, retried with backoff.
 */
function closeFailure(
  baseUrl: string,
  code: number,
  reason: string,
): DurableAgentsClientError | undefined {
  if (code === 1000 || code === 1001 || code === SLOW_READER_CLOSE) return undefined;
  const why = reason === "" ? "" : `: ${reason}`;
  return connectionLost(baseUrl, new Error(`WebSocket closed with code ${code}${why}`));
}

/** One received frame and the UTF-8 length of its text (what the flow-control window counts). */
interface Received {
  readonly frame: Record<string, unknown>;
  readonly bytes: number;
}

interface Pending {
  readonly type: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class SocketSession {
  readonly #ctx: HttpContext;
  readonly #path: string;
  readonly #position: ReaderState;
  readonly #options: SocketOptions;
  #socket: WebSocketLike | undefined;
  #ended: unknown;
  #openWaiters = new Set<() => void>();
  #pending = new Map<number, Pending>();
  #nextId = 0;

  constructor(ctx: HttpContext, path: string, position: ReaderState, options: SocketOptions) {
    this.#ctx = ctx;
    this.#path = path;
    this.#position = position;
    this.#options = options;
  }

  /** The ledger from the position on, live, reconnecting as needed. Iterate once. */
  async *events(): AsyncGenerator<LedgerEvent, void, undefined> {
    try {
      yield* this.#follow();
      this.#ended = new DurableAgentsClientError("stream_closed", "the session stream has closed", {
        status: 0,
        retryable: false,
      });
    } catch (error) {
      this.#ended = error;
      throw error;
    } finally {
      this.#ended ??= new DurableAgentsClientError("closed", "the session socket was closed", {
        status: 0,
        retryable: false,
      });
      for (const wake of this.#openWaiters) wake();
    }
  }

  /** Sends one command and resolves with the server's result (invariant 1). */
  async command(
    type: string,
    fields: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const socket = await this.#whenOpen(signal);
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#pending.delete(id);
        reject(abortReason(signal as AbortSignal));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          signal?.removeEventListener("abort", onAbort);
          this.#pending.delete(id);
          fn(value);
        };
      this.#pending.set(id, { type, resolve: settle(resolve), reject: settle(reject) });
      socket.send(JSON.stringify({ ...fields, type, id }));
    });
  }

  async *#follow(): AsyncGenerator<LedgerEvent, void, undefined> {
    const { signal } = this.#options;
    const position = this.#position;
    const backoff = createBackoff(this.#options.retry);
    for (;;) {
      let progressed = false;
      let delivered = false;
      const openedAt = Date.now();
      try {
        const url = buildUrl(this.#ctx, this.#path, { offset: position.offset }).replace(
          /^http/,
          "ws",
        );
        const flow = { windowBytes: 0, unacked: 0 };
        for await (const { frame, bytes } of this.#frames(url)) {
          if (frame.type === "error") throw frameError(frame.error);
          if (frame.type === "flow" && typeof frame.windowBytes === "number")
            flow.windowBytes = frame.windowBytes;
          if (frame.type !== "events") continue; // pong and future frame types
          const before = position.delivered;
          yield* advance(
            position,
            checkEvents(frame.events, this.#path, 101),
            this.#options.signal,
          );
          if (position.delivered !== before) delivered = true;
          if (typeof frame.nextOffset === "string") position.offset = frame.nextOffset;
          if (frame.upToDate === true) position.upToDate = true;
          progressed = true;
          backoff.reset();
          // Taken: the caller asked for the event after this frame's last (invariant 3).
          flow.unacked += bytes;
          if (flow.windowBytes > 0 && flow.unacked * 2 >= flow.windowBytes) {
            flow.unacked = 0;
            this.#ack(frame.nextOffset);
          }
          if (frame.streamClosed === true) {
            position.closed = true;
            return;
          }
        }
      } catch (error) {
        await retryOrThrow(this.#ctx, error, backoff, signal);
        continue;
      }
      if (!progressed && !delivered) {
        // An open socket with nothing to say is normal; only a socket closed at once is suspect.
        if (Date.now() - openedAt < 1_000) {
          const error = new DurableAgentsClientError(
            "network_error",
            `${this.#ctx.baseUrl} closed the WebSocket at once, without sending anything`,
            { status: 0 },
          );
          await retryOrThrow(this.#ctx, error, backoff, signal);
        }
      } else if (!delivered) {
        await paceIdleReconnect(openedAt, signal);
      }
    }
  }

  /**
   * One socket as parsed frames. Result frames settle their command and are
   * not yielded. Frames received before a close are all yielded; then a
   * clean close (1000/1001, and 4008: a slow reader's, invariant 3) ends the
   * iteration and any other throws, at the `closing` frame that names it or,
   * without one, at the close event (invariant 4).
   */
  async *#frames(url: string): AsyncGenerator<Received, void, undefined> {
    const { signal } = this.#options;
    const Socket =
      this.#ctx.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketConstructor | undefined);
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
    const queue: Received[] = [];
    let closed = false;
    let failure: unknown;
    let lastFrameAt = Date.now();
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const fail = (error: unknown) => {
      failure ??= error;
      notify();
    };
    socket.onopen = () => {
      // Silence counts from the open: a slow handshake is not a dead socket.
      lastFrameAt = Date.now();
      this.#socket = socket;
      for (const waiter of this.#openWaiters) waiter();
    };
    socket.onmessage = (message: MessageEvent) => {
      lastFrameAt = Date.now();
      const text = typeof message.data === "string" ? message.data : decoder.decode(message.data);
      let frame: unknown;
      try {
        frame = JSON.parse(text);
      } catch {
        return fail(badResponse(`WebSocket frame is not JSON: ${text.slice(0, 200)}`, 101));
      }
      if (!isRecord(frame)) return fail(badResponse("WebSocket frame is not a JSON object", 101));
      if (frame.type === "result") return this.#settle(frame);
      // Only events frames count against the window; measuring others costs nothing worth saving.
      const bytes = frame.type === "events" ? encoder.encode(text).byteLength : 0;
      queue.push({ frame, bytes });
      notify();
    };
    socket.onclose = (event: CloseEvent) => {
      closed = true;
      const lost = closeFailure(this.#ctx.baseUrl, event.code, event.reason);
      if (lost !== undefined) fail(lost);
      notify();
    };
    // A failed handshake fires `error` and may never fire `close` (undici), so both end the wait.
    socket.onerror = () =>
      fail(
        new DurableAgentsClientError(
          "network_error",
          `cannot open a WebSocket to ${this.#ctx.baseUrl} (unreachable, or the server refused the upgrade)`,
          { status: 0 },
        ),
      );
    const heartbeatMs = this.#options.heartbeatMs ?? 30_000;
    const heartbeat = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      if (Date.now() - lastFrameAt > 2 * heartbeatMs) socket.close(4000, "heartbeat timeout");
      else socket.send('{"type":"ping"}');
    }, heartbeatMs);
    const onAbort = () => fail(abortReason(signal as AbortSignal));
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        const frame = queue.shift();
        if (frame?.frame.type === "closing" && typeof frame.frame.code === "number") {
          // The close it names, now: not at the close event (invariant 4).
          const reason = typeof frame.frame.reason === "string" ? frame.frame.reason : "";
          const lost = closeFailure(this.#ctx.baseUrl, frame.frame.code, reason);
          if (lost !== undefined) throw lost;
          return;
        }
        if (frame !== undefined) {
          yield frame;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (closed) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      clearInterval(heartbeat);
      signal?.removeEventListener("abort", onAbort);
      if (this.#socket === socket) this.#socket = undefined;
      for (const pending of this.#pending.values()) {
        pending.reject(
          connectionLost(
            this.#ctx.baseUrl,
            new Error(
              `the socket closed before the server answered "${pending.type}"; it may or may not have been applied`,
            ),
          ),
        );
      }
      if (socket.readyState === socket.CONNECTING || socket.readyState === socket.OPEN) {
        socket.close(1000);
      }
    }
  }

  /** `{"type":"ack","offset"}` on the open socket; a closed one needs none (the next starts afresh). */
  #ack(offset: unknown): void {
    const socket = this.#socket;
    if (typeof offset !== "string" || socket === undefined || socket.readyState !== socket.OPEN)
      return;
    socket.send(JSON.stringify({ type: "ack", offset }));
  }

  #settle(frame: Record<string, unknown>): void {
    const pending = typeof frame.id === "number" ? this.#pending.get(frame.id) : undefined;
    if (pending === undefined) return;
    if (frame.ok === true) pending.resolve(frame.result);
    else pending.reject(frameError(frame.error));
  }

  async #whenOpen(signal: AbortSignal | undefined): Promise<WebSocketLike> {
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      if (this.#ended !== undefined) throw this.#ended;
      const socket = this.#socket;
      if (socket !== undefined && socket.readyState === socket.OPEN) return socket;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#openWaiters.delete(done);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        this.#openWaiters.add(done);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
  }
}

const encoder = new TextEncoder();

function frameError(error: unknown): DurableAgentsClientError {
  if (isRecord(error) && typeof error.code === "string" && typeof error.message === "string") {
    const status = typeof error.status === "number" ? error.status : 400;
    const details = isRecord(error.details) ? error.details : undefined;
    return new DurableAgentsClientError(error.code, error.message, { status, details });
  }
  return badResponse("the server sent an error without code and message", 101);
}
