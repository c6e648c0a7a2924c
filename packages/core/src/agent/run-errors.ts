import { ConflictError } from "../errors/http-errors.ts";

/** 409: one active run per session. Carries the run that holds the session. */
export class RunActiveError extends ConflictError {
  override name = "RunActiveError";
  constructor(sessionId: string, runId: string, status: string) {
    super(
      "run_active",
      `session ${sessionId} already has run ${runId} ${status}; interrupt or abort it, or wait for it to finish`,
      { details: { runId, status } },
    );
  }
}

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
