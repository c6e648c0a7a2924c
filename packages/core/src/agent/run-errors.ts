import { DurableAgentsError } from "../errors/base.ts";
import { ConflictError } from "../errors/http-errors.ts";
import type { ErrorInfo } from "../ledger/events.ts";

/**
 * 409: one active run per session. Carries the run that holds the session. `whatToDo` says how
 * the caller frees it, in its surface's terms; the default fits a run that finishes by itself
 * (RUN_WAITS_FOR_CLIENT: one waiting for the client's answers does not).
 */
export class RunActiveError extends ConflictError {
  override name = "RunActiveError";
  constructor(
    sessionId: string,
    runId: string,
    status: string,
    whatToDo = "interrupt or abort it, or wait for it to finish",
  ) {
    super("run_active", `session ${sessionId} already has run ${runId} ${status}; ${whatToDo}`, {
      details: { runId, status },
    });
  }
}

/** RunActiveError's `whatToDo` for a run waiting for the client's answers (approvals, tool outputs). */
export const RUN_WAITS_FOR_CLIENT =
  "it waits for the client's answers to its tool calls and does not finish by itself: answer them (POST .../resume with approvals, or a result for a client-side tool), or interrupt or abort it";

/** 409: a control request that needs an active run found none. */
export class NoActiveRunError extends ConflictError {
  override name = "NoActiveRunError";
  constructor(sessionId: string, action: string, lastStatus: string | null) {
    super(
      "no_active_run",
      `session ${sessionId} has no active run to ${action}${lastStatus ? ` (its last run is ${lastStatus})` : ""}; start a run first`,
      { details: { lastStatus } },
    );
  }
}

/**
 * 409: the run a caller waited for (a Worker run handle's `result()`) ended as `run.failed`.
 * Carries the run's error (`runError`: the `code` and `message` of `run.failed`) and the step
 * it failed at; `retry` or `resume` from a checkpoint can run it again.
 */
export class RunFailedError extends ConflictError {
  override name = "RunFailedError";
  readonly runId: string;
  readonly runError: ErrorInfo;
  constructor(sessionId: string, runId: string, step: number, error: ErrorInfo) {
    super(
      "run_failed",
      `run ${runId} of session ${sessionId} failed at step ${step}: ${error.code}: ${error.message}; retry it from a checkpoint, or start a new run`,
      { details: { runId, step, error } },
    );
    this.runId = runId;
    this.runError = error;
  }
}

/** 409: the run a caller waited for ended as `run.aborted` (terminal); `reason` is the abort's. */
export class RunAbortedError extends ConflictError {
  override name = "RunAbortedError";
  readonly runId: string;
  readonly reason: string;
  constructor(sessionId: string, runId: string, step: number, reason: string) {
    super(
      "run_aborted",
      `run ${runId} of session ${sessionId} was aborted at step ${step} (${reason}); an aborted run cannot resume: start a new run`,
      { details: { runId, step, reason } },
    );
    this.runId = runId;
    this.reason = reason;
  }
}

/**
 * A call ran and its outcome could not be committed (a `ctx.transaction` write threw, the
 * storage failed). Retryable unless its cause says otherwise: the step's retry redrives the
 * call as after a crash (pure and idempotent run again, irreversible becomes
 * `tool.outcome_unknown`); once the retries are spent the run fails with this code.
 */
export class ResultNotRecordedError extends DurableAgentsError {
  override name = "ResultNotRecordedError";
  constructor(call: { step: number; callId: string; name: string }, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      "tool_result_not_recorded",
      500,
      `tool ${call.name} ran (step ${call.step}, call ${call.callId}) but its result could not be recorded: ${why}; check the tool's ctx.transaction writes (they commit with its result) and the session's storage, then retry the run`,
      !(cause instanceof DurableAgentsError) || cause.retryable,
      { cause, details: { ...call } },
    );
  }
}
