import type { Clock } from "../clock.ts";
import type { ErrorInfo } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { getRun } from "../ledger/projections/runs.ts";
import type { Logger } from "../logger.ts";
import type { SqlPort } from "../sql/port.ts";
import type { DueWork } from "../triggers/due-work.ts";
import type { RunExecutor } from "./define-agent.ts";
import type { RunDriver } from "./run-driver.ts";
import {
  RUN_STEP_KIND,
  RUN_WORKFLOW_KIND,
  RUN_WORKFLOW_TERMINATE_KIND,
  type RuntimeHandlers,
  scheduleRuntimeWork,
} from "./runtime-work.ts";
import type { WorkflowRunExecutor } from "./workflow-run/executor.ts";
import type { AgentWorkflowPort } from "./workflow-run/protocol.ts";
import { unavailableRunHandlers, workflowRunKey } from "./workflow-run/unavailable.ts";

/**
 * Which due work drives a run, for either executor (docs/architecture.md, Two executors):
 * `run.step` rows for the alarm driver, `run.workflow` rows (create or wake the instance,
 * then the progress check) and `run.workflow.terminate` for a Workflow run.
 *
 * Invariants:
 * 1. `schedule` is the one place that schedules a run's next step (start, resume, retry,
 *    approvals, client tool outputs, sub-agent replies and Workflow tool results all come
 *    through it), inside the append that moved the run (the outbox).
 * 2. A run's executor is the one its `run.started` recorded, read from the ledger, so a fresh
 *    object knows it; `run.step` never fires for a Workflow run.
 * 3. An aborted run keeps no step row of either kind, and a Workflow run's instance is
 *    terminated by a row written in the abort's append.
 */
export class RunScheduler {
  readonly #sql: SqlPort;
  readonly #ledger: Ledger;
  readonly #work: DueWork;
  readonly #clock: Clock;

  constructor(o: {
    readonly sql: SqlPort;
    readonly ledger: Ledger;
    readonly work: DueWork;
    readonly clock: Clock;
  }) {
    this.#sql = o.sql;
    this.#ledger = o.ledger;
    this.#work = o.work;
    this.#clock = o.clock;
  }

  /** The executor a run's `run.started` recorded (`alarm` for a run this session does not have). */
  executorOf(runId: string): RunExecutor {
    const run = getRun(this.#sql, runId);
    const started = run ? this.#ledger.read(run.startedSeq - 1, 1)[0] : undefined;
    return started?.kind === "run.started" && started.data.executor === "workflow"
      ? "workflow"
      : "alarm";
  }

  /** Schedules the run's next step, due `now`; call it inside the append that moved the run. */
  schedule(runId: string, executor: RunExecutor, now: number): void {
    if (executor === "workflow")
      scheduleRuntimeWork(
        this.#work,
        RUN_WORKFLOW_KIND,
        workflowRunKey(runId),
        { runId },
        now,
        now,
      );
    else scheduleRuntimeWork(this.#work, RUN_STEP_KIND, runKey(runId), { runId }, now, now);
  }

  /** A waiting run was interrupted: its `run.step` row goes (call it inside that append). */
  cancelStep(runId: string): void {
    this.#work.cancel(runKey(runId));
  }

  /**
   * The run was aborted (call it inside the append of `run.aborted`): its step rows go, and a
   * Workflow run's instance is terminated (`run.workflow.terminate`, due now).
   */
  aborted(runId: string, executor: RunExecutor): void {
    this.#work.cancel(runKey(runId));
    this.#work.cancel(workflowRunKey(runId));
    if (executor !== "workflow") return;
    const now = this.#clock.now();
    const key = `workflow-terminate:${runId}`;
    scheduleRuntimeWork(this.#work, RUN_WORKFLOW_TERMINATE_KIND, key, { runId }, now, now);
  }
}

/** What the handlers of a run's step rows need from their session. */
export interface ExecutorHandlersContext {
  readonly sql: SqlPort;
  readonly ledger: Ledger;
  readonly work: DueWork;
  readonly agent: string;
  readonly sessionId: string;
  readonly driver: RunDriver;
  readonly agentWorkflows: AgentWorkflowPort | undefined;
  /** The Workflow executor's side (`SessionRuntimeOptions.workflowRuns`); without it, Workflow runs fail. */
  readonly workflowRuns: WorkflowRunExecutor | undefined;
  /** How long between two progress checks of a running Workflow run. */
  readonly checkMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Fails the run (if still active), as the alarm driver's `giveUp` does. */
  readonly fail: (runId: string, error: ErrorInfo) => void;
}

/**
 * The handlers of the rows `RunScheduler` writes: the driver for `run.step`, and the instance
 * rules of workflow-run/instances.ts for `run.workflow` (with its progress check) and
 * `run.workflow.terminate`, which the Workflow executor brings (`workflowRuns`); without it,
 * those rows fail their run (workflow-run/unavailable.ts).
 */
export function executorHandlers(
  c: ExecutorHandlersContext,
): Pick<
  RuntimeHandlers,
  typeof RUN_STEP_KIND | typeof RUN_WORKFLOW_KIND | typeof RUN_WORKFLOW_TERMINATE_KIND
> {
  return {
    [RUN_STEP_KIND]: c.driver,
    ...(c.workflowRuns?.handlers({
      sql: c.sql,
      agent: c.agent,
      sessionId: c.sessionId,
      port: c.agentWorkflows,
      work: c.work,
      lastSeqOf: (runId) => c.ledger.lastSeqOf(runId),
      checkMs: c.checkMs,
      clock: c.clock,
      logger: c.logger,
      fail: c.fail,
    }) ?? unavailableRunHandlers({ sql: c.sql, fail: c.fail })),
  };
}

/** The `run.step` row of an alarm-driven run (one per run). */
export function runKey(runId: string): string {
  return `run:${runId}`;
}
