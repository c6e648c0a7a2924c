import { BadRequestError } from "../errors/http-errors.ts";
import type { LedgerEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import {
  decodeOffset,
  encodeOffset,
  type PositionSource,
  positionTerms,
} from "../ledger/offset.ts";
import { getRun } from "../ledger/projections/runs.ts";
import { type RunTokens, runTokensOf } from "../ledger/projections/usage-entries.ts";
import type { SqlPort } from "../sql/port.ts";

/**
 * A stateful, deterministic mapping of ledger events to wire chunks (AG-UI
 * events, AI SDK UI chunks). Its state only depends on the current run, so
 * replaying that run's events up to an offset rebuilds it (`warm`).
 */
export interface ChunkProjector<C> {
  map(event: LedgerEvent): C[];
  /**
   * An event a rewind took back (wire/rewound.ts): it gives no chunk and opens or closes
   * nothing; only what the run counts across all its events (its usage, `runTokensOf`, the
   * rule GET .../usage sums) takes it in.
   */
  skip?(event: LedgerEvent): void;
}

/** Adds `event`'s run tokens (`runTokensOf`) to `usage`; the tokens, undefined when none. */
export function addRunTokens(
  usage: { inputTokens: number; outputTokens: number },
  event: LedgerEvent,
): RunTokens | undefined {
  const tokens = runTokensOf(event);
  if (tokens) {
    usage.inputTokens += tokens.inputTokens;
    usage.outputTokens += tokens.outputTokens;
  }
  return tokens;
}

/**
 * Where a client is in a chunk stream: every chunk of events up to `after`,
 * plus the first `skip` chunks of event `after + 1`.
 *
 * SSE ids are `<offset>:<k>`: chunk k of the event at that offset. Resuming with
 * `Last-Event-ID: <offset>:<k>` continues at chunk k + 1 of that event, so a
 * client that dropped in the middle of one event's chunks sees none twice.
 */
export interface ChunkPosition {
  readonly after: number;
  readonly skip: number;
}

export function chunkId(seq: number, index: number): string {
  return `${encodeOffset(seq)}:${index}`;
}

/** Parses `?offset=` / `Last-Event-ID`: a ledger offset, `-1`, `now`, or a chunk id. */
export function parseChunkPosition(
  value: string | null,
  tail: number,
  from: PositionSource = "offset",
): ChunkPosition {
  const match = value === null ? null : /^(\d{16}):(\d{1,6})$/.exec(value);
  if (!match) return { after: decodeOffset(value, tail, from), skip: 0 };
  const seq = decodeOffset(match[1], tail, from);
  if (seq === 0)
    throw new BadRequestError(
      "invalid_offset",
      `${positionTerms(from).name} "${value}" names no event; ids start at 0000000000000001:0`,
    );
  return { after: seq - 1, skip: Number(match[2]) + 1 };
}

/**
 * Feeds `projector` the events of the run that holds event `after`, from the
 * run's start through `after`, and drops the output: the projector is then
 * where a client that read up to `after` left it. Costs one run, not the ledger,
 * and nothing when the next event starts a run (`run.started`): a reader standing
 * at a run's start (the resume stream of the active run, a client that read the
 * previous run to its end) owes the projector nothing of the run before.
 */
export function warm<C>(
  projector: ChunkProjector<C>,
  ledger: Ledger,
  sql: SqlPort,
  after: number,
): void {
  if (after === 0) return;
  const [at, next] = ledger.read(after - 1, 2);
  if (!at?.runId || next?.kind === "run.started") return;
  const run = getRun(sql, at.runId);
  if (!run) return;
  for (let from = run.startedSeq - 1; from < after; ) {
    const batch = ledger.read(from, Math.min(500, after - from));
    for (const event of batch) projector.map(event);
    const last = batch.at(-1);
    if (!last) break;
    from = last.seq;
  }
}
