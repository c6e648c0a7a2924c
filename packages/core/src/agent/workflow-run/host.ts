import { DurableAgentsError } from "../../errors/base.ts";
import { NotFoundError } from "../../errors/http-errors.ts";
import type { ErrorInfo, NewEvent } from "../../ledger/events.ts";
import { getRun, latestRun } from "../../ledger/projections/runs.ts";
import { stepToolCalls } from "../../ledger/projections/tool-calls.ts";
import type { SqlPort } from "../../sql/port.ts";
import type { AgentDefinition, RunExecutor } from "../define-agent.ts";
import { idempotencyKey, type RunDriver } from "../run-driver.ts";
import {
  isWorkflowTool,
  type ToolWorkflowOutcome,
  type ToolWorkflowParams,
  workflowResultEvents,
} from "../workflow-calls.ts";
import type { WorkflowCall, WorkflowCallReply, WorkflowDecision } from "./protocol.ts";
import { runFailure } from "./unavailable.ts";

export interface WorkflowRunHostOptions {
  readonly sql: SqlPort;
  readonly driver: RunDriver;
  readonly agent: AgentDefinition;
  readonly sessionId: string;
  readonly maxToolResultBytes: number;
  /** Appends events (the session's ledger). */
  readonly append: (events: NewEvent[]) => void;
  /** The executor a run's `run.started` recorded (run-scheduler.ts). */
  readonly executorOf: (runId: string) => RunExecutor;
}

/**
 * The session object's side of the Workflow executor: the same `RunDriver` pieces the alarm
 * driver composes (`decide`, then `perform`), called one step at a time by the run's
 * Workflow instance. Nothing here decides or commits on its own: it only checks that the
 * step the Workflow names is still the run's next action, so a retried or replayed step
 * never commits twice. `call` is the one door: the session object's RPC and the in-process
 * test session both send `WorkflowCall`s (protocol.ts) through it.
 */
export class WorkflowRunHost {
  readonly #o: WorkflowRunHostOptions;
  readonly #sql: SqlPort;
  readonly #driver: RunDriver;

  constructor(options: WorkflowRunHostOptions) {
    this.#o = options;
    this.#sql = options.sql;
    this.#driver = options.driver;
  }

  /**
   * One call of the run's Workflow instance, served by the method it names. Refused (404
   * `run_not_found`) for a run this session does not have or that the alarm drives: a
   * Workflow never steps such a run.
   */
  async call(runId: string, call: WorkflowCall): Promise<WorkflowCallReply> {
    if (this.#o.executorOf(runId) !== "workflow")
      throw new NotFoundError(
        "run_not_found",
        `session ${this.#o.sessionId} has no run ${runId.slice(0, 64)} on the Workflow executor`,
      );
    switch (call.type) {
      case "decide":
        return { decision: await this.#decide(runId) };
      case "model":
        await this.#performModel(runId, call.step);
        return {};
      case "tool": {
        const job = await this.#performTool(runId, call.step, call.callId);
        return job ? { job } : {};
      }
      case "commitTool":
        this.#commitTool(runId, call.step, call.callId, call.outcome);
        return {};
      case "giveUp":
        this.giveUp(runId, call.error);
        return {};
    }
  }

  /** Decides (committing the ledger-only actions) until something must be performed or the run stops. */
  async #decide(runId: string): Promise<WorkflowDecision> {
    for (;;) {
      const decided = await this.#driver.decide(runId);
      if (decided.type === "again") continue;
      if (decided.type === "model") return { type: "model", step: decided.step };
      if (decided.type === "tools") {
        const calls = [...decided.run, ...decided.unknown]
          .map((c) => ({ callId: c.callId }))
          .sort((a, b) => (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0));
        return { type: "tools", step: decided.step, calls };
      }
      return this.#stopped(runId);
    }
  }

  /** Performs step `step`'s model call when it is still the run's next action; otherwise nothing. */
  async #performModel(runId: string, step: number): Promise<void> {
    const decided = await this.#driver.decide(runId);
    if (decided.type !== "model" || decided.step !== step) return;
    await this.#failTerminal(runId, () => this.#driver.perform(runId, decided));
  }

  /**
   * Performs one tool call of step `step` when it still has to run (requested, approved, or
   * started and safe to run again); a started irreversible call becomes `tool.outcome_unknown`
   * instead, exactly as the alarm driver redrives it. Otherwise nothing. An `executor:
   * "workflow"` tool only gets its `tool.started` (durable) here: the answer is the call for
   * the Workflow to execute in its own step, and `commitTool` records its outcome.
   */
  async #performTool(
    runId: string,
    step: number,
    callId: string,
  ): Promise<ToolWorkflowParams | undefined> {
    const decided = await this.#driver.decide(runId);
    if (decided.type !== "tools" || decided.step !== step) return undefined;
    const run = decided.run.filter((c) => c.callId === callId);
    const unknown = decided.unknown.filter((c) => c.callId === callId);
    if (run.length === 0 && unknown.length === 0) return undefined;
    await this.#failTerminal(runId, () =>
      this.#driver.perform(runId, { type: "tools", step, run, unknown, inStep: true }),
    );
    const call = run[0];
    if (!call || !isWorkflowTool(this.#o.agent.tools.find((t) => t.name === call.name)))
      return undefined;
    const record = stepToolCalls(this.#sql, runId, step).find((c) => c.callId === callId);
    if (record?.status !== "started") return undefined;
    const { agent, sessionId } = this.#o;
    return {
      agent: agent.name,
      session: sessionId,
      runId,
      step,
      callId,
      tool: call.name,
      args: call.args,
      idempotencyKey: record.idempotencyKey ?? idempotencyKey(sessionId, runId, step, callId),
    };
  }

  /**
   * The outcome of a workflow tool executed in the run's own Workflow step. Idempotent: taken
   * only while the call is `started` in a running run; a replay is acknowledged and ignored.
   */
  #commitTool(runId: string, step: number, callId: string, outcome: ToolWorkflowOutcome): void {
    const call = { runId, step, callId };
    const events = workflowResultEvents(this.#sql, call, outcome, this.#o.maxToolResultBytes, true);
    if (events.length > 0) this.#o.append(events);
  }

  /** The Workflow gave up on a step: the run fails as when the alarm's retries are spent. */
  giveUp(runId: string, error: ErrorInfo): void {
    this.#driver.giveUp({ runId }, runFailure(error));
  }

  /** A terminal error fails the run now; a retryable one goes up, and the Workflow retries the step. */
  async #failTerminal(runId: string, perform: () => Promise<unknown>): Promise<void> {
    try {
      await perform();
    } catch (error) {
      if (!(error instanceof DurableAgentsError) || error.retryable) throw error;
      this.#driver.giveUp({ runId }, error);
    }
  }

  #stopped(runId: string): WorkflowDecision {
    const run = getRun(this.#sql, runId);
    if (!run) return { type: "end", status: "aborted" };
    switch (run.status) {
      case "running":
      case "waiting":
        return { type: "wait", seq: run.updatedSeq };
      case "interrupted":
        // Resumable while it is the session's latest run; a newer run ends it for good.
        return latestRun(this.#sql)?.runId === runId
          ? { type: "wait", seq: run.updatedSeq }
          : { type: "end", status: "superseded" };
      default:
        return { type: "end", status: run.status };
    }
  }
}
