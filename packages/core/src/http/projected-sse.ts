import type { Clock } from "../clock.ts";
import type { LedgerEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { type ChunkPosition, type ChunkProjector, chunkId } from "../wire/chunk-projector.ts";
import { formatSse, sseComment } from "../wire/sse.ts";
import type { LiveReadOptions } from "./ledger-read.ts";

export interface ProjectedSseOptions<C> {
  readonly request: Request;
  readonly ledger: Ledger;
  readonly clock: Clock;
  readonly live: LiveReadOptions;
  /** Already warmed to `from.after` (see wire/chunk-projector.ts). */
  readonly projector: ChunkProjector<C>;
  readonly from: ChunkPosition;
  /** Ends the stream once this event's chunks are written. */
  readonly until?: (event: LedgerEvent) => boolean;
  /** Written when `until` ended the stream, e.g. `data: [DONE]`. */
  readonly trailer?: string;
  /** Close after `live.sseMaxMs` (clients reconnect); false for a stream bound to one run. */
  readonly bounded: boolean;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * A live SSE response of projected chunks, `data: <json>` each, with `id: <offset>:<k>`.
 * Delivery runs in the append's tick (ledger.onAppend), so no event is skipped or
 * sent twice; a client disconnect only unsubscribes, it never touches the run.
 */
export function projectedSse<C>(options: ProjectedSseOptions<C>): Response {
  const { ledger, clock, live, projector, request } = options;
  const encoder = new TextEncoder();
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const stop = new AbortController();
  let sent = options.from.after;
  let skip = options.from.skip;
  let chain = Promise.resolve();
  let closed = false;
  const write = (text: string) => {
    if (closed) return;
    chain = chain.then(() => writer.write(encoder.encode(text))).catch(() => close());
  };
  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    stop.abort();
    chain = chain.then(() => writer.close()).catch(() => undefined);
  };
  const flush = () => {
    while (!closed) {
      const events = ledger.read(sent, live.maxEvents);
      if (events.length === 0) return;
      for (const event of events) {
        sent = event.seq;
        const chunks = projector.map(event);
        for (let k = skip; k < chunks.length; k++)
          write(formatSse({ id: chunkId(event.seq, k), data: JSON.stringify(chunks[k]) }));
        skip = 0;
        if (options.until?.(event)) {
          if (options.trailer !== undefined) write(options.trailer);
          close();
          return;
        }
      }
    }
  };
  const unsubscribe = ledger.onAppend(() => flush());
  request.signal.addEventListener("abort", close, { once: true });
  flush();
  void (async () => {
    const started = clock.now();
    const left = () => (options.bounded ? live.sseMaxMs - (clock.now() - started) : Infinity);
    while (!closed && left() > 0) {
      await clock.sleep(Math.min(live.keepAliveMs, left()), stop.signal).catch(() => undefined);
      if (!closed && left() > 0) write(sseComment());
    }
    close();
  })();
  return new Response(readable, { headers: { ...options.headers } });
}
