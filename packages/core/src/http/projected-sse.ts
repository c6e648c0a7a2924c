import type { Clock } from "../clock.ts";
import type { LedgerEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import {
  type LedgerChunk,
  type LiveReadOptions,
  ledgerReadSource,
} from "../streams/ledger-source.ts";
import { type LiveFrames, liveSse } from "../streams/read/live-sse.ts";
import { type ChunkPosition, type ChunkProjector, chunkId } from "../wire/chunk-projector.ts";
import { formatSse } from "../wire/sse.ts";

/** Bytes of ledger read per write: a backlog leaves in pieces, the next when the reader took one. */
const MAX_READ_BYTES = 256 * 1024;

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
 * A live SSE response of projected chunks, `data: <json>` each, with `id: <offset>:<k>`, on
 * the one ledger reader (`ledgerReadSource` and the live loop of `/events` and
 * `/v1/stream/*`): no event is skipped or sent twice, and a client disconnect only ends the
 * response, it never touches the run.
 */
export function projectedSse<C>(options: ProjectedSseOptions<C>): Response {
  const { ledger, live, projector } = options;
  let skip = options.from.skip;
  const frames: LiveFrames<LedgerChunk> = {
    chunks(chunks) {
      let text = "";
      for (const chunk of chunks) {
        for (const event of chunk.events) {
          const mapped = projector.map(event);
          for (let k = skip; k < mapped.length; k++)
            text += formatSse({ id: chunkId(event.seq, k), data: JSON.stringify(mapped[k]) });
          skip = 0;
          if (options.until?.(event)) return { text: text + (options.trailer ?? ""), end: true };
        }
      }
      return { text };
    },
    atTail: () => undefined,
  };
  return liveSse(
    options.request,
    ledgerReadSource(ledger, options.clock, live.maxEvents),
    options.from.after,
    frames,
    {
      maxDurationMs: options.bounded ? live.sseMaxMs : Number.POSITIVE_INFINITY,
      keepAliveMs: live.keepAliveMs,
      maxReadBytes: MAX_READ_BYTES,
      headers: options.headers,
      now: () => options.clock.now(),
    },
  );
}
