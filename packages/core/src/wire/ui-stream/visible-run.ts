/**
 * A run's UI message stream as its conversation shows it: the chunks of its events from its
 * `run.started`, without what a resume from a checkpoint (or a retry) took back. One rule for
 * the restored chat (`GET .../chat-history`, chat-turns.ts, replayed here whole) and the resume
 * stream of the active run (`GET /chat/:agent/:id/stream`, `GET .../ui-stream`,
 * http/projected-sse.ts `activeRunUiStream`, which reads it a page at a time with the filter of
 * `rewoundFrom` from the run's start: the same rewinds).
 *
 * Invariants:
 * 1. What a rewind hides is what the messages projection hides, by the one rule AG-UI follows
 *    too (wire/rewound.ts, `rewindsTo`): the run's events after a checkpoint and before the
 *    `run.resumed` that went back to it give no chunk and open or close nothing (the projector's
 *    `skip` only counts their tokens). A checkpoint ends a step (`finish-step`), so what is
 *    left stays well-formed.
 * 2. The projector's state is then that of a stream of the visible events: a stream can go on
 *    live with the same projector (a rewind appended later is not hidden).
 * 3. In a replayed run (`visibleRun`), adjacent deltas of one part (`text-delta`,
 *    `reasoning-delta` with the same id) are one chunk: the AI SDK appends each delta to its
 *    part, so the message is the same.
 */
import type { LedgerEvent } from "../../ledger/events.ts";
import type { Ledger } from "../../ledger/ledger.ts";
import type { RunRecord } from "../../ledger/projections/runs.ts";
import type { ChunkProjector } from "../chunk-projector.ts";
import { rewoundEvents, withoutRewound } from "../rewound.ts";
import type { UiChunk } from "./ui-stream-projector.ts";

/** Events read per batch while a run is replayed. */
const BATCH = 500;

/**
 * The chunks of `run` from its start to where `ends` holds (wire/replay-end.ts `endsRun`) or the
 * ledger's tail, read in batches, merged (see the invariants above).
 */
export function visibleRun(
  ledger: Ledger,
  run: RunRecord,
  projector: ChunkProjector<UiChunk>,
  ends: (event: LedgerEvent) => boolean,
): UiChunk[] {
  const through = ledger.tail;
  // What the rewinds written up to `through` took back gives no chunk (invariant 1).
  const visible = withoutRewound(projector, rewoundEvents(ledger, run.startedSeq - 1, through));
  const chunks: UiChunk[] = [];
  for (let last = run.startedSeq - 1; last < through; ) {
    const batch = ledger.read(last, Math.min(BATCH, through - last));
    for (const event of batch) {
      for (const chunk of visible.map(event)) appendMerged(chunks, chunk);
      last = event.seq;
      if (ends(event)) return chunks;
    }
    if (batch.length === 0) break;
  }
  return chunks;
}

/** Appends `chunk`, a delta to the part the last chunk is a delta of merged into it. */
function appendMerged(chunks: UiChunk[], chunk: UiChunk): void {
  const last = chunks.at(-1);
  if (
    last !== undefined &&
    (chunk.type === "text-delta" || chunk.type === "reasoning-delta") &&
    last.type === chunk.type &&
    last.id === chunk.id
  )
    chunks[chunks.length - 1] = { ...last, delta: `${last.delta}${chunk.delta}` };
  else chunks.push(chunk);
}
