import type { Clock } from "../clock.ts";
import type { LedgerEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { type ChunkPosition, type ChunkProjector, chunkId } from "../wire/chunk-projector.ts";
import { formatSse } from "../wire/sse.ts";
import type { LiveReadOptions } from "./ledger-read.ts";
import { liveSse } from "./live-sse.ts";

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
  const { ledger, live, projector } = options;
  let sent = options.from.after;
  let skip = options.from.skip;
  return liveSse({
    request: options.request,
    ledger,
    clock: options.clock,
    keepAliveMs: live.keepAliveMs,
    maxMs: options.bounded ? live.sseMaxMs : Number.POSITIVE_INFINITY,
    headers: options.headers,
    next: () => {
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
        // A backlog leaves in pieces; the next one follows when the reader took this one.
        if (ended || text.length > MAX_WRITE_CHARS) break;
      }
      if (ended && options.trailer !== undefined) text += options.trailer;
      return { text, end: ended };
    },
  });
}
