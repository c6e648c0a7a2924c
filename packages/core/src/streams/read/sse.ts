/**
 * SSE reads (PROTOCOL.md 5.8): every `data` event is followed by a `control` event; the
 * response ends after `sseMaxDurationMs`, when the client goes away, or after the control
 * event that reports `streamClosed`.
 */
import { SSE_HEADERS } from "../../wire/sse.ts";
import { isJsonContentType, isTextContentType } from "../content-type.ts";
import { H } from "../protocol-headers.ts";
import { advanceCursor, nextCursor } from "./cursor.ts";
import { type ControlEvent, sseControlEvent, sseDataEvent } from "./framing.ts";
import type { ReadChunk, StreamReadOptions, StreamReadSource } from "./read-source.ts";

const encoder = new TextEncoder();

export function serveSse(
  request: Request,
  source: StreamReadSource,
  options: StreamReadOptions,
  start: number,
  clientCursor: string | null,
): Response {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const mode = isJsonContentType(source.contentType)
    ? "json"
    : isTextContentType(source.contentType)
      ? "text"
      : "base64";
  const stop = new AbortController();
  request.signal.addEventListener("abort", () => stop.abort());
  const deadline = now() + options.sseMaxDurationMs;
  let cursor: string | null = null;

  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string): void => controller.enqueue(encoder.encode(text));
      let position = start;
      let sentControl = false;
      try {
        while (!stop.signal.aborted) {
          const state = await source.state();
          if (state.tail > position) {
            const chunks = await source.read(position, options.maxReadBytes);
            if (chunks.length === 0) break;
            position = (chunks[chunks.length - 1] as ReadChunk).end;
            const atTail = position >= state.tail;
            // One write for the pair, so a reader never sees a data event without its control event.
            send(
              sseDataEvent(chunks, mode) +
                sseControlEvent(control(position, atTail, state.closed && atTail)),
            );
            sentControl = true;
            if (state.closed && atTail) break;
            continue;
          }
          if (state.closed) {
            send(sseControlEvent(control(position, true, true)));
            break;
          }
          if (!sentControl) {
            send(sseControlEvent(control(position, true, false)));
            sentControl = true;
          }
          const remaining = deadline - now();
          if (remaining <= 0) break;
          const before = state.tail;
          await source.waitForChange(Math.min(remaining, options.sseKeepAliveMs), stop.signal);
          const after = await source.state();
          if (after.tail === before && !after.closed && !stop.signal.aborted && now() < deadline)
            send(": keep-alive\n\n");
        }
        controller.close();
      } catch (error) {
        controller.error(error);
      }
    },
    cancel() {
      stop.abort();
    },
  });

  function control(position: number, upToDate: boolean, closed: boolean): ControlEvent {
    const next = source.formatOffset(position);
    if (closed) return { streamNextOffset: next, upToDate: true, streamClosed: true };
    cursor =
      cursor === null ? nextCursor(clientCursor, now(), random) : advanceCursor(cursor, now());
    return upToDate
      ? { streamNextOffset: next, streamCursor: cursor, upToDate: true }
      : { streamNextOffset: next, streamCursor: cursor };
  }

  const headers = new Headers(SSE_HEADERS);
  if (mode === "base64") headers.set(H.sseEncoding, "base64");
  return new Response(body, { status: 200, headers });
}
