import type { SqlPort } from "../sql/port.ts";
import type { LedgerEvent } from "./events.ts";
import { latestRun, type RunRecord } from "./projections/runs.ts";

/**
 * Why a run waits (`run.waiting` `reason`) and what moves it on, declared once for everything
 * that treats a waiting run: the wire projections (UI message stream, AG-UI), where a stream
 * bound to a run ends (wire/replay-end.ts), the chat routes' "is a run active", and what
 * resumes a run when a delegated call answers (agent/session-links.ts).
 *
 * - `client`: only an answer from outside moves the run (`resume` with decisions): calls
 *   waiting for approval or for a client-side tool's output (`approval`), an irreversible call
 *   whose outcome was lost (`outcome_unknown`). A stream bound to the run ends there, and AG-UI
 *   ends its run with `outcome: interrupt`.
 * - `delegated`: the run waits on calls it delegated (a sub-agent's run, a Workflow) and
 *   resumes by itself when they answer. The run is still active: streams follow it through
 *   the wait, and nobody is asked anything.
 */
export const WAIT_REASONS = {
  approval: "client",
  outcome_unknown: "client",
  subagent: "delegated",
  workflow: "delegated",
} as const satisfies Record<string, "client" | "delegated">;

export type WaitReason = keyof typeof WAIT_REASONS;

/**
 * True when a run waiting for `reason` moves on only when a client answers. A reason not
 * declared above (none is written today) counts as one: a stream ends there rather than hang.
 */
export function waitsForClient(reason: string | null): boolean {
  return (WAIT_REASONS as Record<string, string>)[reason ?? ""] !== "delegated";
}

/** True when a run waiting for `reason` resumes when its delegated calls have answered. */
export function waitsOnDelegates(reason: string | null): boolean {
  return !waitsForClient(reason);
}

/** True when a run waits and only a client's answer moves it on. */
export function isWaitingForClient(run: Pick<RunRecord, "status" | "waitingReason">): boolean {
  return run.status === "waiting" && waitsForClient(run.waitingReason);
}

/**
 * True while a run moves on by itself: running, or waiting on calls it delegated. This is
 * "a run is active" for the chat surface: `GET /chat/:agent/:id/stream` streams it, and a cut
 * chat stream stops it.
 */
export function movesOnItsOwn(run: Pick<RunRecord, "status" | "waitingReason">): boolean {
  return (
    run.status === "running" || (run.status === "waiting" && waitsOnDelegates(run.waitingReason))
  );
}

/** A `run.waiting` event that only a client's answer moves on (see {@link waitsForClient}). */
export function isClientWait(event: LedgerEvent): boolean {
  return event.kind === "run.waiting" && waitsForClient(event.data.reason);
}

/**
 * The session's active run: its latest run while it moves on by itself ({@link movesOnItsOwn}),
 * else undefined. The chat surface's one rule for "is a run active": `GET /chat/:agent/:id/stream`
 * and `GET .../ui-stream` stream it, and `GET .../chat-history` leaves it to them.
 */
export function activeRun(sql: SqlPort): RunRecord | undefined {
  const run = latestRun(sql);
  return run !== undefined && movesOnItsOwn(run) ? run : undefined;
}
