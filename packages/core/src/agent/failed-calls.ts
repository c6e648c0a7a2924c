import type { ErrorInfo, NewEvent } from "../ledger/events.ts";
import { delegatedCalls } from "../ledger/projections/tool-calls.ts";
import type { SqlPort } from "../sql/port.ts";
import { isSubagentCall } from "./subagent-replies.ts";

/** What names a call in its `tool.failed` event. */
export interface CallRef {
  readonly step: number;
  readonly callId: string;
  readonly name: string;
}

/**
 * One `tool.failed` per call, all with the same error: calls that will never get their
 * answer (a run resumed with a new message, a fork of delegated calls, an ended run).
 */
export function failedCalls(
  runId: string,
  calls: readonly CallRef[],
  error: ErrorInfo,
): NewEvent[] {
  return calls.map((c) => ({
    kind: "tool.failed",
    runId,
    data: { step: c.step, callId: c.callId, name: c.name, error },
  }));
}

/** `tool.failed` for each call of the run still delegated (a sub-agent, a Workflow): the run will never take its answer. */
export function failDelegated(sql: SqlPort, runId: string, error: ErrorInfo): NewEvent[] {
  return failedCalls(runId, delegatedCalls(sql, runId), error);
}

/**
 * The events of a run's abort: its calls still delegated fail (code `aborted`), then
 * `run.aborted` with `reason`. One rule for the `abort` command and a start that ends the run.
 */
export function abortedRunEvents(sql: SqlPort, runId: string, reason: string): NewEvent[] {
  const failed = failDelegated(sql, runId, {
    code: "aborted",
    message: `the run was aborted (${reason}) before the call answered`,
  });
  return [...failed, { kind: "run.aborted", runId, data: { reason } }];
}

/**
 * `tool.failed` (code `superseded`) for each call still delegated when a resume starts a new step
 * (`startsNewStep`: with a message, from a checkpoint): the run goes on past the call, so its
 * answer would come to a step the model has left. A Workflow instance may still finish; its late
 * result records nothing (`pendingCall`). A sub-agent's run is cancelled (subagent-replies.ts).
 */
export function supersededCalls(runId: string, calls: readonly CallRef[]): NewEvent[] {
  return failedCalls(runId, calls, {
    code: "superseded",
    message:
      "the run was resumed past this call before it answered (with a new message or from a checkpoint); its work may still finish, but its result is not used",
  });
}

/**
 * The events of an interrupt of a waiting run (an interrupt is a pause: it stops the work it
 * can stop and keeps every result of work that goes on). A call handed to a sub-agent fails
 * (code `interrupted`): the child's run is cancelled with it (subagent-replies.ts), so no
 * answer will come. A call handed to a Workflow instance stays delegated: nothing stops the
 * instance, so its result is recorded while the run is interrupted (workflow-calls.ts,
 * `pendingCall`) and a `continue` goes on with it (a resume that starts a new step fails it:
 * `supersededCalls`). Then `run.interrupted` with `reason`.
 */
export function interruptedRunEvents(sql: SqlPort, runId: string, reason: string): NewEvent[] {
  const stopped = delegatedCalls(sql, runId).filter((c) => isSubagentCall(sql, c));
  const failed = failedCalls(runId, stopped, {
    code: "interrupted",
    message: `the run was interrupted (${reason}) before the sub-agent answered; its run was cancelled`,
  });
  return [...failed, { kind: "run.interrupted", runId, data: { reason } }];
}
