import type { Clock } from "../../clock.ts";
import { DurableAgentsError } from "../../errors/base.ts";
import type { ErrorInfo } from "../../ledger/events.ts";
import { getRun } from "../../ledger/projections/runs.ts";
import type { Logger } from "../../logger.ts";
import type { SqlPort } from "../../sql/port.ts";
import type { DueItem, DueWork } from "../../triggers/due-work.ts";
import type { TriggerHandler, TriggerOutcome } from "../../triggers/pump.ts";
import {
  RUN_WORKFLOW_KIND,
  RUN_WORKFLOW_TERMINATE_KIND,
  type RunPayload,
  type RuntimeHandlers,
  type RunWorkflowPayload,
  scheduleRuntimeWork,
} from "../runtime-work.ts";
import { type AgentWorkflowPort, runInstanceId } from "./protocol.ts";
import { UNAVAILABLE, workflowRunKey, workflowsUnavailable } from "./unavailable.ts";

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
 * 4. While the run is `running`, its `run.workflow` row stays as a check, due every `checkMs`
 *    (the object's alarm, so it survives a restart of the object): a check that finds no
 *    event of the run newer than the last check's wakes the instance through the same rule
 *    as 1 (create, wake, or restart a finished one). An instance the platform left dormant
 *    (wrangler dev's local Workflows, restarted mid-step, resumes an instance only when an
 *    event arrives) therefore goes on; a wake that reaches a busy or parked instance only
 *    makes its loop decide again from the ledger. The check ends when the run stops running.
 * 5. A new session object makes the check due at once (session-pump.ts, `restartLeftOverWork`;
 *    not a check waiting out a retry), and its first check of a running run wakes the instance
 *    even when the run moved since the last one: the restart that started the object may have
 *    cut the instance after that progress. A waiting run's parked instance is not woken so.
 */
export interface RunInstancesContext {
  readonly sql: SqlPort;
  readonly agent: string;
  readonly sessionId: string;
  readonly port: AgentWorkflowPort | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly work: DueWork;
  /** The seq of the run's latest event (the progress a check compares). */
  readonly lastSeqOf: (runId: string) => number;
  /** How long between two checks of a running run (invariant 4). */
  readonly checkMs: number;
  /** Fails the run (if still active), as the alarm driver's `giveUp` does. */
  readonly fail: (runId: string, error: ErrorInfo) => void;
}

const DONE: TriggerOutcome = { type: "done" };

export function runInstanceHandlers(
  c: RunInstancesContext,
): Pick<RuntimeHandlers, typeof RUN_WORKFLOW_KIND | typeof RUN_WORKFLOW_TERMINATE_KIND> {
  const instanceId = (runId: string) => runInstanceId(c.agent, c.sessionId, runId);
  // The run whose instance this object (these handlers) woke already (invariant 5): a session
  // has one active run at a time, so one id, never a list that grows with the runs served.
  let woken: string | undefined;
  const waker: TriggerHandler<RunWorkflowPayload> = {
    async run({ runId, seen }) {
      const run = getRun(c.sql, runId);
      // A run that stopped meanwhile needs no wake: an abort terminates the instance itself.
      if (!run || (run.status !== "running" && run.status !== "waiting")) return DONE;
      // A check that saw the run move since the last one leaves its instance at work, once
      // this object has woken it (invariant 5); a waiting run's instance is parked, and only
      // what ends the wait (a row without `seen`) wakes it.
      const last = c.lastSeqOf(runId);
      const firstSinceStart = run.status === "running" && woken !== runId;
      if (seen === undefined || seen === last || firstSinceStart) {
        const unavailable = workflowsUnavailable(c.port);
        if (!c.port || unavailable) {
          c.fail(runId, unavailable ?? UNAVAILABLE);
          return DONE;
        }
        if (seen === last)
          c.logger.warn(
            "a Workflow run made no progress since the last check; waking its instance",
            {
              runId,
              seq: last,
            },
          );
        const refused = await c.port.wake(await instanceId(runId), {
          agent: c.agent,
          session: c.sessionId,
          runId,
        });
        if (refused) {
          c.fail(runId, refused);
          return DONE;
        }
        woken = runId;
      }
      // The next check, with the progress seen now, unless the run stopped or moved meanwhile
      // (a move wrote a new revision of the row, which the settle leaves as it is).
      return {
        type: "done",
        commit: (settle) =>
          c.sql.transaction(() => {
            settle();
            if (getRun(c.sql, runId)?.status !== "running") return;
            if (c.work.get(workflowRunKey(runId))) return;
            const now = c.clock.now();
            const next = { runId, seen: c.lastSeqOf(runId) };
            const key = workflowRunKey(runId);
            scheduleRuntimeWork(c.work, RUN_WORKFLOW_KIND, key, next, now + c.checkMs, now);
          }),
      };
    },
    giveUp({ runId }: RunWorkflowPayload, error: unknown, item: DueItem): undefined {
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
