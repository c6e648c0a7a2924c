import type { LedgerEvent } from "../../ledger/events.ts";
import type { Ledger } from "../../ledger/ledger.ts";
import type { RunRecord } from "../../ledger/projections/runs.ts";
import type { ChunkProjector } from "../chunk-projector.ts";
import { rewoundEvents, withoutRewound } from "../rewound.ts";
import type { UiChunk } from "./ui-stream-projector.ts";

/**
 * A run's UI message stream as its conversation shows it: the chunks of its events from its
 * `run.started`, without what a resume from a checkpoint (or a retry) took back. One rule for
 * the restored chat (`GET .../chat-history`, chat-turns.ts) and the resume stream of the active
 * run (`GET /chat/:agent/:id/stream`, `GET .../ui-stream`, http/projected-sse.ts).
 *
 * Invariants:
 * 1. What a rewind hides is what the messages projection hides, by the one rule AG-UI follows
 *    too (wire/rewound.ts, `rewindsTo`): the run's events after a checkpoint and before the
 *    `run.resumed` that went back to it give no chunk and open or close nothing (the projector's
 *    `skip` only counts their tokens). A checkpoint ends a step (`finish-step`), so what is
 *    left stays well-formed.
 * 2. The projector's state is then that of a stream of the visible events: the stream can go
 *    on live from `last` with the same projector (a rewind appended later is not hidden).
 * 3. With `merge`, adjacent deltas of one part (`text-delta`, `reasoning-delta` with the same
 *    id) are one chunk: the AI SDK appends each delta to its part, so the message is the same.
 *    Without, every chunk keeps the event and index it came from (its SSE id, `chunkId`).
 */
export interface VisibleChunk {
  readonly chunk: UiChunk;
  /** The seq of the event the chunk came from (with `merge`, the first of those merged). */
  readonly seq: number;
  /** Its index among that event's chunks (0 for a merged delta). */
  readonly index: number;
}

export interface VisibleRun {
  readonly chunks: readonly VisibleChunk[];
  /** The seq of the last event read: the run's end, `through`, or the ledger's tail. */
  readonly last: number;
  /** True when `ends` held for an event: the stream of the run is whole. */
  readonly ended: boolean;
}

export interface VisibleRunOptions {
  readonly projector: ChunkProjector<UiChunk>;
  /** Where a stream bound to the run ends (wire/replay-end.ts `endsRun`). */
  readonly ends: (event: LedgerEvent) => boolean;
  /** Read no event past this seq (default: to the ledger's tail). */
  readonly through?: number;
  readonly merge: boolean;
  /** Called with every event read, before it is projected. */
  readonly onEvent?: (event: LedgerEvent) => void;
}

/** Events read per batch while a run is replayed. */
const BATCH = 500;

/** Replays `run` from its start (see the invariants above). */
export function visibleRun(ledger: Ledger, run: RunRecord, options: VisibleRunOptions): VisibleRun {
  const { projector, ends, merge, onEvent } = options;
  const through = options.through ?? ledger.tail;
  const chunks = new Chunks(merge);
  let last = run.startedSeq - 1;
  const visible = withoutRewound(projector, rewoundEvents(ledger, last, through));
  const result = (ended: boolean) => ({ chunks: chunks.chunks, last, ended });
  while (last < through) {
    const batch = ledger.read(last, Math.min(BATCH, through - last));
    for (const event of batch) {
      onEvent?.(event);
      chunks.append(event.seq, visible.map(event));
      last = event.seq;
      if (ends(event)) return result(true);
    }
    if (batch.length === 0) break;
  }
  return result(false);
}

/** A run's chunks so far, each with the event it came from. */
class Chunks {
  readonly chunks: VisibleChunk[] = [];
  readonly #merge: boolean;

  constructor(merge: boolean) {
    this.#merge = merge;
  }

  append(seq: number, mapped: readonly UiChunk[]): void {
    mapped.forEach((chunk, index) => {
      const last = this.chunks.at(-1)?.chunk;
      if (
        this.#merge &&
        last !== undefined &&
        (chunk.type === "text-delta" || chunk.type === "reasoning-delta") &&
        last.type === chunk.type &&
        last.id === chunk.id
      ) {
        const merged = { ...last, delta: `${last.delta}${chunk.delta}` };
        this.chunks[this.chunks.length - 1] = {
          ...(this.chunks.at(-1) as VisibleChunk),
          chunk: merged,
        };
        return;
      }
      this.chunks.push({ chunk, seq, index });
    });
  }
}
