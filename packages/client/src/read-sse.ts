import { createBackoff } from "./backoff.ts";
import { badResponse, DurableAgentsClientError, isRecord } from "./errors.ts";
import type { StreamPosition } from "./event-stream.ts";
import { send } from "./http.ts";
import {
  advance,
  paceIdleReconnect,
  parseEvents,
  type Reader,
  retryOrThrow,
} from "./reader-kit.ts";
import { readSse } from "./sse-parser.ts";

/** Live reads over SSE (PROTOCOL.md 5.8): `event: data` batches, each confirmed by `event: control`. */
export const readSseLive: Reader = async function* (ctx, path, position, options) {
  const { signal } = options;
  const backoff = createBackoff(options.retry);
  for (;;) {
    let progressed = false;
    let delivered = false;
    const openedAt = Date.now();
    try {
      const response = await send(ctx, path, {
        query: { offset: position.offset, live: "sse" },
        headers: { accept: "text/event-stream" },
        signal,
      });
      const type = response.headers.get("content-type") ?? "";
      if (!type.includes("text/event-stream") || response.body === null) {
        throw badResponse(`expected an SSE stream from ${path}, got "${type}"`, response.status);
      }
      for await (const message of readSse(response.body)) {
        if (message.event === "data") {
          const before = position.delivered;
          yield* advance(position, parseEvents(message.data, path, response.status), signal);
          if (position.delivered !== before) {
            progressed = delivered = true;
            backoff.reset();
          }
        } else if (message.event === "control") {
          applyControl(position, message.data, path, response.status);
          progressed = true;
          backoff.reset();
          if (position.closed) return;
        }
      }
    } catch (error) {
      await retryOrThrow(ctx, error, backoff, signal);
      continue;
    }
    if (!progressed) {
      const error = new DurableAgentsClientError(
        "network_error",
        `${ctx.baseUrl} closed the event stream before sending anything`,
        { status: 0 },
      );
      await retryOrThrow(ctx, error, backoff, signal);
    } else if (!delivered) {
      await paceIdleReconnect(openedAt, signal);
    }
  }
};

function applyControl(position: StreamPosition, data: string, path: string, status: number): void {
  let control: unknown;
  try {
    control = JSON.parse(data);
  } catch {
    control = undefined;
  }
  if (!isRecord(control) || typeof control.streamNextOffset !== "string") {
    throw badResponse(`${path} sent a control event without streamNextOffset`, status);
  }
  position.offset = control.streamNextOffset;
  if (control.upToDate === true) position.upToDate = true;
  if (control.streamClosed === true) {
    position.closed = true;
    position.upToDate = true;
  }
}
