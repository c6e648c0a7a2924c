import { DurableAgentsError, UserError } from "../../errors/base.ts";
import type { ErrorInfo } from "../../ledger/events.ts";
import { getRun } from "../../ledger/projections/runs.ts";
import type { SqlPort } from "../../sql/port.ts";
import type { TriggerHandler } from "../../triggers/pump.ts";
import {
  RUN_WORKFLOW_KIND,
  RUN_WORKFLOW_TERMINATE_KIND,
  type RuntimeHandlers,
  type RunWorkflowPayload,
} from "../runtime-work.ts";
import type { AgentWorkflowPort } from "./protocol.ts";

/**
 * What every session knows of the Workflow executor, whether or not its server can drive a
 * run on Workflows: the `run.workflow` row's key, the refusal of a start it cannot drive, and
 * the handlers that fail a Workflow run on a server without the executor (executor.ts, which
 * the server takes as `SessionRuntimeOptions.workflowRuns`). The executor's own side
 * (host.ts, instances.ts) is not imported here, so a Worker that never drives a run on
 * Workflows bundles none of it.
 */

/** How often a running Workflow run's instance is checked for progress, unless told. */
export const DEFAULT_RUN_WORKFLOW_CHECK_MS = 30_000;

/** The `run.workflow` row of a Workflow-executor run (one per run: a newer wake replaces it). */
export function workflowRunKey(runId: string): string {
  return `workflow-run:${runId}`;
}

export const UNAVAILABLE: ErrorInfo = {
  code: "workflows_unavailable",
  message:
    'the run uses executor "workflow", but this server has no agent Workflows binding or no Workflow executor; export createAgentWorkflow({ agents }) from this Worker (that export brings the executor), bind it under "workflows" in wrangler.jsonc (binding AGENT_WORKFLOW) or set createAgentServer({ agentWorkflow })',
};

/** Why `port` cannot drive Workflow runs (no port, or its binding is missing); undefined when it can. */
export function workflowsUnavailable(port: AgentWorkflowPort | undefined): ErrorInfo | undefined {
  return port ? port.unavailable : UNAVAILABLE;
}

/**
 * The refusal of a start with `executor: "workflow"` on a server that cannot drive it,
 * before anything is written: 400 when the request chose the executor (start it without
 * `executor`, or with `"alarm"`), 500 when the agent's definition did (a server
 * configuration fault). Code `workflows_unavailable` either way.
 */
export function startRefused(why: ErrorInfo, chosenByRequest: boolean): DurableAgentsError {
  return chosenByRequest
    ? new UserError(
        why.code,
        400,
        `${why.message}; or start the run without executor "workflow" (the alarm drives it)`,
      )
    : new DurableAgentsError(why.code, 500, why.message, false);
}

/** A Workflow run's failure as the run driver's `giveUp` takes it: terminal, status 500. */
export function runFailure(error: ErrorInfo): DurableAgentsError {
  return new DurableAgentsError(error.code, 500, error.message, false);
}

/**
 * The `run.workflow` and `run.workflow.terminate` handlers of a server without the Workflow
 * executor (rows a deploy with it left, or a run whose executor went away): a running run, or
 * a waiting one the row was to wake, fails with `workflows_unavailable` (instances.ts,
 * invariant 3: no run stays `running` with nothing to drive it), and there is no instance to
 * terminate. A progress check (`seen`) left from before a run began to wait fails nothing: what
 * ends the wait is refused on this server, and a deploy with the executor wakes the parked
 * instance with it.
 */
export function unavailableRunHandlers(c: {
  readonly sql: SqlPort;
  /** Fails the run (if still active), as the alarm driver's `giveUp` does. */
  readonly fail: (runId: string, error: ErrorInfo) => void;
}): Pick<RuntimeHandlers, typeof RUN_WORKFLOW_KIND | typeof RUN_WORKFLOW_TERMINATE_KIND> {
  const waker: TriggerHandler<RunWorkflowPayload> = {
    async run({ runId, seen }) {
      const status = getRun(c.sql, runId)?.status;
      if (status === "running" || (status === "waiting" && seen === undefined))
        c.fail(runId, UNAVAILABLE);
      return { type: "done" };
    },
    giveUp: () => undefined,
  };
  return {
    [RUN_WORKFLOW_KIND]: waker,
    [RUN_WORKFLOW_TERMINATE_KIND]: { run: async () => ({ type: "done" }), giveUp: () => undefined },
  };
}
