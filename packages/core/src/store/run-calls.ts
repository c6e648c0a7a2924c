/**
 * What a Worker run handle (`agentRuns` in @durable-agents/cloudflare) reads of a session
 * besides the store's reads: the ledger from an offset until a run stops (`readRun`), and
 * how a run stopped (`runOutcome`). Both answer at once when there is something to answer,
 * else wait for the session's next delivery (the delivery window every live reader waits
 * on) for at most `waitMs`, and then answer what there is.
 *
 * Invariants:
 * 1. Where a followed run stops is one rule: `endsRun` (wire/replay-end.ts) for an event, the
 *    same `movesOnItsOwn` (ledger/wait-reasons.ts) for a run: a run stops when it completes,
 *    fails, is interrupted or aborted, or waits for a client's decision; a wait on delegated
 *    calls (a sub-agent, a Workflow) is no stop. The UI message stream and AG-UI end there too.
 * 2. Reads are ledger reads through `ledgerReadSource` (the reader behind `GET .../events`):
 *    positions are seq and offsets 16 digits (ledger/offset.ts). A read answers `nextOffset`,
 *    the offset after its last event, so a caller that reads on from it after any failure
 *    (an evicted object, a lost reply) neither skips nor repeats an event.
 * 3. Nothing here writes: the handle's commands go through `dispatchCommand` (store-call.ts).
 */
import { awaitsDecision } from "../agent/run-control.ts";
import { ConflictError, NotFoundError } from "../errors/http-errors.ts";
import type { ErrorInfo, JsonValue } from "../ledger/events.ts";
import { decodeOffset, encodeOffset } from "../ledger/offset.ts";
import { getRun, latestRun, type RunRecord } from "../ledger/projections/runs.ts";
import { stepToolCalls } from "../ledger/projections/tool-calls.ts";
import { movesOnItsOwn } from "../ledger/wait-reasons.ts";
import { toWire, type WireEvent } from "../ledger/wire-event.ts";
import { deliveryWindow } from "../streams/delivery-window.ts";
import {
  DEFAULT_LIVE_READ,
  type LiveReadOptions,
  ledgerReadSource,
} from "../streams/ledger-source.ts";
import { endsRun } from "../wire/replay-end.ts";
import type { StoreCallContext } from "./store-call.ts";

/** Bytes of one read (besides `live.maxEvents`), as for `GET .../events`. */
const MAX_READ_BYTES = 1024 * 1024;

/** One read of a run's ledger: events in order, each with its offset. */
export interface RunRead {
  /** The run followed: the one asked for, or the session's latest. */
  readonly runId: string;
  readonly events: readonly WireEvent[];
  /** The offset to read on from (after the last event; the read's start when there was none). */
  readonly nextOffset: string;
  /** The run stopped at or before `nextOffset`: its last event was read, nothing follows for it. */
  readonly ended: boolean;
}

/** A call a waiting run needs a decision on (`resume` with `approvals`). */
export interface PendingDecision {
  readonly callId: string;
  readonly name: string;
  readonly args: JsonValue;
  readonly status: "awaiting_approval" | "outcome_unknown";
}

interface OutcomeBase {
  readonly runId: string;
  /** The step the run stopped at. */
  readonly step: number;
  /** The offset after the event that stopped the run. */
  readonly offset: string;
}

/** How a run stopped: its status and what came with it. */
export type RunOutcome =
  | (OutcomeBase & { readonly status: "completed"; readonly output: JsonValue })
  | (OutcomeBase & { readonly status: "interrupted"; readonly reason: string })
  | (OutcomeBase & {
      readonly status: "waiting";
      /** `approval` or `outcome_unknown` (ledger/wait-reasons.ts). */
      readonly reason: string;
      readonly pending: readonly PendingDecision[];
    })
  | (OutcomeBase & { readonly status: "failed"; readonly error: ErrorInfo })
  | (OutcomeBase & { readonly status: "aborted"; readonly reason: string });

/** A run's outcome once it stopped; `stopped: false` when `waitMs` passed first. */
export type RunWait =
  | { readonly stopped: false; readonly runId: string }
  | { readonly stopped: true; readonly outcome: RunOutcome };

/**
 * The ledger from `offset` (default: just before the run's `run.started`), up to and
 * including the event where the run stops. Waits up to `waitMs` (at most the long-poll
 * window) when there is nothing yet. 404 `unknown_run`, 409 `no_run`, 400 `invalid_offset`.
 */
export async function readRun(
  ctx: StoreCallContext,
  input: { readonly runId?: string; readonly offset?: string; readonly waitMs: number },
): Promise<RunRead> {
  const { runtime, sql } = ctx;
  const run = followedRun(ctx, input.runId);
  const from =
    input.offset === undefined
      ? run.startedSeq - 1
      : decodeOffset(input.offset, runtime.ledger.tail);
  const live = liveOf(ctx);
  const source = ledgerReadSource(runtime.ledger, ctx.clock, live);
  const readNow = async (): Promise<RunRead> => {
    const read = (await source.read(from, MAX_READ_BYTES))[0]?.events ?? [];
    // A run that stopped ends at its stop (updatedSeq): what follows is another run's, even
    // when the read starts past the stop (an offset from a later run, or the stop's own).
    const now = getRun(sql, run.runId);
    const stop = now !== undefined && !movesOnItsOwn(now) ? now.updatedSeq : undefined;
    const events = stop === undefined ? read : read.filter((e) => e.seq <= stop);
    const at = events.findIndex(endsRun(sql, run.runId));
    const kept = at < 0 ? events : events.slice(0, at + 1);
    const last = kept.at(-1)?.seq ?? from;
    const ended = at >= 0 || (stop !== undefined && stop <= last);
    return { runId: run.runId, events: kept.map(toWire), nextOffset: encodeOffset(last), ended };
  };
  const first = await readNow();
  if (first.events.length > 0 || first.ended || input.waitMs <= 0) return first;
  await source.waitForChange(Math.min(input.waitMs, live.longPollMs), new AbortController().signal);
  return readNow();
}

/**
 * How the run (default: the latest) stopped, waiting up to `waitMs` for it to stop.
 * 404 `unknown_run`, 409 `no_run`.
 */
export async function runOutcome(
  ctx: StoreCallContext,
  input: { readonly runId?: string; readonly waitMs: number },
): Promise<RunWait> {
  const { runId } = followedRun(ctx, input.runId);
  const window = deliveryWindow(ctx.runtime.ledger, ctx.clock, liveOf(ctx).windowMs);
  const deadline = ctx.clock.now() + Math.max(0, input.waitMs);
  for (;;) {
    const run = getRun(ctx.sql, runId);
    if (run && !movesOnItsOwn(run)) return { stopped: true, outcome: outcomeOf(ctx, run) };
    const left = deadline - ctx.clock.now();
    if (left <= 0) return { stopped: false, runId };
    await window.next(left, new AbortController().signal);
  }
}

function outcomeOf(ctx: StoreCallContext, run: RunRecord): RunOutcome {
  const base = { runId: run.runId, step: run.step, offset: encodeOffset(run.updatedSeq) };
  // A stopped run's last change is the event that stopped it (the runs projection's updatedSeq).
  const stop = ctx.runtime.ledger.read(run.updatedSeq - 1, 1)[0];
  const reason =
    stop?.kind === "run.interrupted" || stop?.kind === "run.aborted" ? stop.data.reason : "";
  switch (run.status) {
    case "completed":
      return { ...base, status: "completed", output: run.output };
    case "failed":
      return {
        ...base,
        status: "failed",
        error: run.error ?? { code: "unknown", message: "the run failed without an error" },
      };
    case "interrupted":
      return { ...base, status: "interrupted", reason };
    case "aborted":
      return { ...base, status: "aborted", reason };
    default: {
      const pending = stepToolCalls(ctx.sql, run.runId, run.step)
        .filter(awaitsDecision)
        .map(({ callId, name, args, status }) => ({
          callId,
          name,
          args,
          status: status as PendingDecision["status"],
        }));
      return { ...base, status: "waiting", reason: run.waitingReason ?? "", pending };
    }
  }
}

/** The run asked for, or the session's latest. */
function followedRun(ctx: StoreCallContext, runId: string | undefined): RunRecord {
  const run = runId === undefined ? latestRun(ctx.sql) : getRun(ctx.sql, runId);
  if (run) return run;
  const { session } = ctx.runtime.status();
  if (runId !== undefined)
    throw new NotFoundError("unknown_run", `session ${session} has no run ${runId.slice(0, 64)}`);
  throw new ConflictError(
    "no_run",
    `session ${session} has no run yet; start one (execute, or POST .../runs)`,
  );
}

function liveOf(ctx: StoreCallContext): LiveReadOptions {
  return ctx.live ?? DEFAULT_LIVE_READ;
}
