import { createBackoff } from "./backoff.ts";
import { badResponse } from "./errors.ts";
import { readText, send } from "./http.ts";
import { advance, parseEvents, type Reader, retryOrThrow } from "./reader-kit.ts";
import type { LedgerEvent } from "./types.ts";

/** Catch-up reads (5.6), or live long-poll reads (5.7) that wait for new events. */
export const readPolling: Reader = async function* (ctx, path, position, options) {
  const { signal } = options;
  const live = options.transport === "long-poll";
  const backoff = createBackoff(options.retry);
  for (;;) {
    let batch: LedgerEvent[];
    let nextOffset: string;
    let headers: Headers;
    try {
      const query = { offset: position.offset, live: live ? "long-poll" : undefined };
      const response = await send(ctx, path, { query, signal });
      const text = response.status === 204 ? "" : await readText(ctx, response, signal);
      batch = text.trim() === "" ? [] : parseEvents(text, path, response.status);
      headers = response.headers;
      const next = headers.get("stream-next-offset");
      if (next === null) {
        throw badResponse(`${path} answered without a Stream-Next-Offset header`, response.status);
      }
      nextOffset = next;
      backoff.reset();
    } catch (error) {
      await retryOrThrow(ctx, error, backoff, signal);
      continue;
    }
    yield* advance(position, batch, signal);
    position.offset = nextOffset;
    if (headers.get("stream-up-to-date") === "true") position.upToDate = true;
    if (headers.get("stream-closed") === "true") position.closed = true;
    if (position.closed) return;
    if (!live && position.upToDate) return;
  }
};
