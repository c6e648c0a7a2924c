import type { LedgerEvent } from "../ledger/events.ts";
import type { RunRecord } from "../ledger/projections/runs.ts";
import { type LedgerChunk, ledgerReadSource } from "../streams/ledger-source.ts";
import { type LiveFrames, liveSse } from "../streams/read/live-sse.ts";
import { type ChunkPosition, type ChunkProjector, chunkId, warm } from "../wire/chunk-projector.ts";
import { endsRun } from "../wire/replay-end.ts";
import { rewoundFrom, withoutRewound } from "../wire/rewound.ts";
import { formatSse } from "../wire/sse.ts";
import {
  createUiStreamProjector,
  UI_STREAM_DONE,
  UI_STREAM_HEADERS,
} from "../wire/ui-stream/ui-stream-projector.ts";
import type { SessionHttpContext } from "./route.ts";

/** Bytes of ledger read per write: a backlog leaves in pieces, the next when the reader took one. */
const MAX_READ_BYTES = 256 * 1024;

export interface ProjectedSseOptions {
  /** Ends the stream once this event's chunks are written. */
  readonly until?: (event: LedgerEvent) => boolean;
  /** Written when `until` ended the stream, e.g. `data: [DONE]`. */
  readonly trailer?: string;
  /** Close after `live.sseMaxMs` (clients reconnect); false for a stream bound to one run. */
  readonly bounded: boolean;
  readonly headers: Readonly<Record<string, string>>;
  /** Interval of keep-alive comments on an idle response, instead of `live.keepAliveMs`. */
  readonly keepAliveMs?: number;
}

/**
 * A live SSE response of projected chunks, `data: <json>` each, with `id: <offset>:<k>`, on
 * the one ledger reader (`ledgerReadSource` and the live loop of `/events` and
 * `/v1/stream/*`): no event is skipped or sent twice, and a client disconnect only ends the
 * response, it never touches the run. The projector is warmed here to `from.after` (the
 * current run replayed up to it, nothing when `from` is a run's start: wire/chunk-projector.ts).
 */
export function projectedSse<C>(
  request: Request,
  ctx: SessionHttpContext,
  projector: ChunkProjector<C>,
  from: ChunkPosition,
  options: ProjectedSseOptions,
): Response {
  const { ledger } = ctx.runtime;
  const { live } = ctx;
  warm(projector, ledger, ctx.sql, from.after);
  let skip = from.skip;
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
  return liveSse(request, ledgerReadSource(ledger, ctx.clock, live), from.after, frames, {
    maxDurationMs: options.bounded ? live.sseMaxMs : Number.POSITIVE_INFINITY,
    keepAliveMs: options.keepAliveMs ?? live.keepAliveMs,
    maxReadBytes: MAX_READ_BYTES,
    headers: options.headers,
    now: () => ctx.clock.now(),
    // A bounded stream's client reconnects from its last id; a run-bound one is waited for.
    ...(options.bounded
      ? {
          stall: {
            ms: live.stallMs,
            sleep: (ms: number, s: AbortSignal) => ctx.clock.sleep(ms, s),
          },
        }
      : {}),
  });
}

/**
 * The AI SDK UI message stream from `from`, ending after the event `until` holds for, without
 * what a rewind written before the response took back after `from` (wire/rewound.ts
 * `rewoundFrom`, AG-UI's rule): a reader of the resume stream cut mid-run and resumed by its
 * `Last-Event-ID` gets the rest of what it was reading. `keepAliveMs`: the keep-alive interval
 * while idle (default `live.keepAliveMs`).
 */
export function uiStream(
  request: Request,
  ctx: SessionHttpContext,
  from: ChunkPosition,
  until: (event: LedgerEvent) => boolean,
  keepAliveMs?: number,
): Response {
  const { ledger } = ctx.runtime;
  const projector = withoutRewound(
    createUiStreamProjector(),
    rewoundFrom(ledger, from, ledger.tail),
  );
  return projectedSse(request, ctx, projector, from, {
    until,
    trailer: UI_STREAM_DONE,
    bounded: false,
    headers: UI_STREAM_HEADERS,
    ...(keepAliveMs === undefined ? {} : { keepAliveMs }),
  });
}

/**
 * The resume stream of the active run (`GET /chat/:agent/:id/stream`, `GET .../ui-stream`
 * without an offset): the run from its start as its conversation shows it, without what a
 * resume from a checkpoint (or a retry) written before the response took back (the rule of
 * `GET .../chat-history`, wire/ui-stream/visible-run.ts: `uiStream` from the run's start, whose
 * `rewoundFrom` is then the history's filter), then live until the run's stream ends
 * (`endsRun`). The backlog is not built first: the one live reader reads it from the run's
 * start a page at a time (`live.maxEvents` events within `MAX_READ_BYTES` of ledger,
 * streams/budget.ts), one write per page once the reader took the last, and goes on
 * live from where the last page ended with the same projector: the object holds a page, not
 * the run, and no chunk is skipped or sent twice at a page's edge or where the backlog ends.
 * A rewind written after the response started cannot take back chunks already sent
 * (docs/delivery.md). `keepAliveMs`: the keep-alive interval while idle (default
 * `live.keepAliveMs`).
 */
export function activeRunUiStream(
  request: Request,
  ctx: SessionHttpContext,
  run: RunRecord,
  keepAliveMs?: number,
): Response {
  const start = { after: run.startedSeq - 1, skip: 0 };
  return uiStream(request, ctx, start, endsRun(ctx.sql, run.runId), keepAliveMs);
}
