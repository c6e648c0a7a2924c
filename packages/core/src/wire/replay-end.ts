import { type LedgerEvent, TERMINAL_KINDS } from "../ledger/events.ts";
import { getRun } from "../ledger/projections/runs.ts";
import { isClientWait } from "../ledger/wait-reasons.ts";
import type { SqlPort } from "../sql/port.ts";

/**
 * Where a stream bound to a run ends (the UI message stream, an AG-UI run).
 *
 * A run can pause (`run.waiting` for a client, `run.interrupted`, `run.failed`) and be moved
 * again later (`resume`, `retry`, an approval), so a pause in the ledger is not the run's end.
 * A stream ends at a pause or terminal event only when the run has not moved since: the run
 * is not running and that event is the last one that changed it (the runs projection's
 * `updatedSeq`). A replay of a run that was interrupted and resumed, or that waited for an
 * approval and got it, therefore continues through every later segment, and a live stream
 * still ends at the pause it is waiting in.
 *
 * A wait on delegated calls (a sub-agent, a Workflow: ledger/wait-reasons.ts) is no pause for
 * the client: the run resumes by itself, and the stream follows it through the wait.
 *
 * @param runId the run the stream follows; undefined: whichever run the event belongs to.
 */
export function endsRun(sql: SqlPort, runId?: string): (event: LedgerEvent) => boolean {
  return (event) => {
    if (event.runId === null || (runId !== undefined && event.runId !== runId)) return false;
    if (!TERMINAL_KINDS.has(event.kind) && !isClientWait(event)) return false;
    const run = getRun(sql, event.runId);
    return run === undefined || (run.status !== "running" && run.updatedSeq <= event.seq);
  };
}
