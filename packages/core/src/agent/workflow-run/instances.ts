import type { Clock } from "../../clock.ts";
import { DurableAgentsError } from "../../errors/base.ts";
import type { ErrorInfo } from "../../ledger/events.ts";
import { getRun } from "../../ledger/projections/runs.ts";
import type { Logger } from "../../logger.ts";
import type { SqlPort } from "../../sql/port.ts";
import type { DueItem } from "../../triggers/due-work.ts";
import type { TriggerHandler, TriggerOutcome } from "../../triggers/pump.ts";
import {
  RUN_WORKFLOW_KIND,
  RUN_WORKFLOW_TERMINATE_KIND,
  type RunPayload,
  type RuntimeHandlers,
} from "../runtime-work.ts";
import { type AgentWorkflowPort, runInstanceId } from "./protocol.ts";

/**
 * The session's due work for Workflow-executor runs (the outbox: each row commits with the
 * event that moved or stopped the run).
 *
 * Invariants:
 * 1. `run.workflow` (written with `run.started`, `run.resumed` and every other event that puts
 *    a workflow run back to running) creates the run's instance or wakes it; the instance id
 *    is derived from (agent, session, run), so a redriven create names the same instance and
 *    a wake is delivered at least once.
 * 2. `run.workflow.terminate` (written with `run.aborted`) terminates the instance.
 * 3. A create that cannot succeed (no binding, retries spent) fails the run, so no run
 *    stays `running` with nothing to drive it.
 */
export interface RunInstancesContext {
  readonly sql: SqlPort;
  readonly agent: string;
  readonly sessionId: string;
  readonly port: AgentWorkflowPort | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Fails the run (if still active), as the alarm driver's `giveUp` does. */
  readonly fail: (runId: string, error: ErrorInfo) => void;
}

const DONE: TriggerOutcome = { type: "done" };

const UNAVAILABLE: ErrorInfo = {
  code: "workflows_unavailable",
  message:
    'the run uses executor "workflow", but this server has no agent Workflows binding; export createAgentWorkflow({ agents }) from your Worker, bind it under "workflows" in wrangler.jsonc (binding AGENT_WORKFLOW) or set createAgentServer({ agentWorkflow })',
};

export function runInstanceHandlers(
  c: RunInstancesContext,
): Pick<RuntimeHandlers, typeof RUN_WORKFLOW_KIND | typeof RUN_WORKFLOW_TERMINATE_KIND> {
  const instanceId = (runId: string) => runInstanceId(c.agent, c.sessionId, runId);
  const waker: TriggerHandler<RunPayload> = {
    async run({ runId }) {
      const run = getRun(c.sql, runId);
      // A run that stopped meanwhile needs no wake: an abort terminates the instance itself.
      if (!run || (run.status !== "running" && run.status !== "waiting")) return DONE;
      if (!c.port) {
        c.fail(runId, UNAVAILABLE);
        return DONE;
      }
      const refused = await c.port.wake(await instanceId(runId), {
        agent: c.agent,
        session: c.sessionId,
        runId,
      });
      if (refused) c.fail(runId, refused);
      return DONE;
    },
    giveUp({ runId }: RunPayload, error: unknown, item: DueItem): undefined {
      const cause = error instanceof Error ? error.message : String(error);
      c.logger.error("a run's Workflow instance could not be created or woken; the run fails", {
        runId,
        error: cause,
      });
      c.fail(runId, {
        code: error instanceof DurableAgentsError ? error.code : "workflow_create_failed",
        message: `could not create or wake the Workflow instance of run ${runId} after ${item.attempts} attempts (${cause}); check the AGENT_WORKFLOW binding in wrangler.jsonc`,
      });
      return undefined;
    },
  };
  const terminator: TriggerHandler<RunPayload> = {
    async run({ runId }) {
      if (c.port) await c.port.terminate(await instanceId(runId));
      return DONE;
    },
    giveUp({ runId }: RunPayload, error: unknown): undefined {
      // The run is aborted in the ledger already; an instance left running only finds it over.
      c.logger.error("could not terminate an aborted run's Workflow instance", {
        runId,
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    },
  };
  return { [RUN_WORKFLOW_KIND]: waker, [RUN_WORKFLOW_TERMINATE_KIND]: terminator };
}
