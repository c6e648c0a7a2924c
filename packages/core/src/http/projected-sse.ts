import type { Clock } from "../clock.ts";
import type { LedgerEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { type ChunkPosition, type ChunkProjector, chunkId } from "../wire/chunk-projector.ts";
import { formatSse, sseComment } from "../wire/sse.ts";
import type { LiveReadOptions } from "./ledger-read.ts";

/** A backlog leaves in writes of about this size; the next one follows when the reader took it. */
const MAX_WRITE_CHARS = 256 * 1024;

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
  let pending = 0;
  const write = (text: string) => {
    if (closed) return;
    pending++;
    chain = chain
      .then(() => writer.write(encoder.encode(text)))
      .then(() => {
        if (--pending === 0) flush();
      })
      .catch(() => close());
  };
  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    stop.abort();
    chain = chain.then(() => writer.close()).catch(() => undefined);
  };
  // Chunks made while the reader still takes earlier ones leave in one write: one write per
  // event would cap a reader at one event per round trip under fan-out.
  const flush = () => {
    if (pending > 0 || closed) return;
    let text = "";
    let ended = false;
    for (;;) {
      const events = ledger.read(sent, live.maxEvents);
      if (events.length === 0) break;
      for (const event of events) {
        sent = event.seq;
        const chunks = projector.map(event);
        for (let k = skip; k < chunks.length; k++)
          text += formatSse({ id: chunkId(event.seq, k), data: JSON.stringify(chunks[k]) });
        skip = 0;
        if (options.until?.(event)) {
          ended = true;
          break;
        }
      }
      if (ended || text.length > MAX_WRITE_CHARS) break;
    }
    if (ended && options.trailer !== undefined) text += options.trailer;
    if (text !== "") write(text);
    if (ended) close();
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
