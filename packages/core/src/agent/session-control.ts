import type { Clock } from "../clock.ts";
import { DurableAgentsError } from "../errors/base.ts";
import { BadRequestError, ConflictError } from "../errors/http-errors.ts";
import type { ErrorInfo, JsonValue, NewEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import {
  getCheckpoint,
  latestCheckpoint,
  listCheckpoints,
} from "../ledger/projections/checkpoints.ts";
import { latestRun } from "../ledger/projections/runs.ts";
import { delegatedCalls, stepToolCalls } from "../ledger/projections/tool-calls.ts";
import type { SqlPort } from "../sql/port.ts";
import type { DueWork } from "../triggers/due-work.ts";
import type { AppState } from "./app-state.ts";
import type { AgentDefinition } from "./define-agent.ts";
import { abortedRunEvents, failDelegated, interruptedRunEvents } from "./failed-calls.ts";
import {
  type ControlState,
  decideResume,
  decideRetry,
  type ResumeCheck,
  type ResumeRequest,
  type RetryRequest,
} from "./run-control.ts";
import type { RunDriver } from "./run-driver.ts";
import { NoActiveRunError } from "./run-errors.ts";
import type { RunScheduler } from "./run-scheduler.ts";
import { RUN_STEP_KIND } from "./runtime-work.ts";
import { ABORTABLE, ACTIVE, type SessionStatus } from "./session-runtime-options.ts";
import { parseToolInput } from "./tool-schema.ts";
import type { WakeUp } from "./wake-up.ts";
import { startRefused } from "./workflow-run/unavailable.ts";

export interface SessionControlOptions {
  readonly sql: SqlPort;
  readonly ledger: Ledger;
  readonly work: DueWork;
  readonly sessionId: string;
  readonly agent: AgentDefinition;
  readonly state: AppState;
  readonly clock: Clock;
  readonly driver: RunDriver;
  readonly runs: RunScheduler;
  readonly wakeUp: WakeUp;
  /**
   * Why this server cannot drive a run on Workflows (no executor's side or no binding;
   * workflow-run/unavailable.ts), undefined when it can: a resume or retry that would move
   * such a run is refused before anything is written, so the run keeps waiting for a deploy
   * that can drive it.
   */
  readonly workflowsUnavailable: ErrorInfo | undefined;
}

/**
 * The commands that stop, move or end the session's latest run, and close the session, as the
 * session commits them (`SessionRuntime.interrupt`, `abort`, `resume`, `retry`, `close`).
 * Each decides over the projections (resume and retry by run-control.ts's pure rules), then
 * appends its events with the due work they move (run-scheduler.ts) in one transaction, then
 * re-arms the wake-up. Calls still delegated by a run that stops (to a sub-agent or a
 * Workflow) fail in the same append, and sub-agents working on them are cancelled
 * (subagent-replies.ts).
 */
export class SessionControl {
  readonly #o: SessionControlOptions;

  constructor(options: SessionControlOptions) {
    this.#o = options;
  }

  /**
   * Soft stop, a pause: durable request; the model call in flight is aborted and its partial
   * answer kept. A waiting run is interrupted at once: its sub-agents' calls fail (code
   * `interrupted`) and their runs are cancelled, while its Workflow tools' calls keep their
   * results for the resume (failed-calls.ts, `interruptedRunEvents`).
   */
  async interrupt(reason: string): Promise<void> {
    const { ledger, driver, runs } = this.#o;
    const run = this.#activeRun("interrupt");
    if (run.status === "waiting") {
      ledger.append(interruptedRunEvents(this.#o.sql, run.runId, reason), () =>
        runs.cancelStep(run.runId),
      );
    } else if (!run.interruptRequested) {
      ledger.append([{ kind: "run.interrupt_requested", runId: run.runId, data: { reason } }]);
      driver.interruptInFlight(run.runId);
      await this.#o.wakeUp.arm(this.#o.clock.now());
    }
  }

  /**
   * Hard stop: terminal at once, for a running, waiting or interrupted run. Tools in flight
   * are signalled and their late results dropped; delegated calls fail with code `aborted`.
   */
  async abort(reason: string): Promise<void> {
    const { ledger, runs } = this.#o;
    const run = this.#activeRun("abort", ABORTABLE);
    const executor = runs.executorOf(run.runId);
    ledger.append(abortedRunEvents(this.#o.sql, run.runId, reason), () =>
      runs.aborted(run.runId, executor),
    );
    this.#o.driver.abortInFlight(run.runId);
    await this.#o.wakeUp.arm(this.#o.work.nextWakeAt());
  }

  resume(request: ResumeRequest): Promise<void> {
    return this.commit(this.#drivable(this.#decideResume(request)));
  }

  /** `resume`'s own decision, run without committing: why it would be refused, if it would. */
  canResume(request: ResumeRequest): ResumeCheck {
    try {
      this.#drivable(this.#decideResume(request));
      return { canResume: true };
    } catch (error) {
      if (!(error instanceof DurableAgentsError)) throw error;
      return { canResume: false, code: error.code, reason: error.message };
    }
  }

  retry(request: RetryRequest): Promise<void> {
    return this.commit(this.#drivable(decideRetry(this.#state(), request)));
  }

  /**
   * `events`, unless they move a Workflow run on a server that cannot drive it: then 500
   * `workflows_unavailable` (a server configuration fault, naming the export), and nothing
   * is written (the run keeps waiting; its approvals are not spent).
   */
  #drivable(events: NewEvent[]): NewEvent[] {
    const why = this.#o.workflowsUnavailable;
    const runId = events[0]?.runId;
    if (
      why &&
      runId &&
      events.some((e) => e.kind === "run.resumed") &&
      this.#o.runs.executorOf(runId) === "workflow"
    )
      throw startRefused(why, false);
    return events;
  }

  /** Appends control events; when they resume a run, its next step is scheduled in the same append. */
  async commit(events: NewEvent[]): Promise<void> {
    const runId = events[0]?.runId;
    const moves = events.some((e) => e.kind === "run.resumed");
    const now = this.#o.clock.now();
    const executor = moves && runId ? this.#o.runs.executorOf(runId) : "alarm";
    this.#o.ledger.append(events, () => {
      if (moves && runId) this.#o.runs.schedule(runId, executor, now);
    });
    if (moves) await this.#o.wakeUp.arm(now);
  }

  /**
   * `session.closed`: refused (409 `run_active`) while a run is active; an interrupted run's
   * delegated calls fail (code `session_closed`); its schedules are cancelled with it.
   * Closing twice is a no-op.
   */
  async close(reason: string): Promise<void> {
    const { ledger, sql, sessionId, work } = this.#o;
    if (ledger.closed) return;
    const run = latestRun(sql);
    if (run && ACTIVE.has(run.status)) {
      throw new ConflictError(
        "run_active",
        `session ${sessionId} has run ${run.runId} ${run.status}; interrupt or abort it before closing the session`,
        { details: { runId: run.runId, status: run.status } },
      );
    }
    const orphaned =
      run?.status === "interrupted"
        ? failDelegated(sql, run.runId, {
            code: "session_closed",
            message: `the session was closed (${reason}) while run ${run.runId} was interrupted, before the call answered`,
          })
        : [];
    ledger.append([...orphaned, { kind: "session.closed", runId: null, data: { reason } }], () => {
      work.cancelWhere({ kind: RUN_STEP_KIND, keyPrefix: "trigger:" });
    });
    await this.#o.wakeUp.arm(work.nextWakeAt());
  }

  /** The resume's decision: the one rule `resume` commits and `canResume` reports. */
  #decideResume(request: ResumeRequest): NewEvent[] {
    this.#o.ledger.assertOpen();
    return decideResume(this.#state(), request);
  }

  #activeRun(action: string, accepted: ReadonlySet<SessionStatus> = ACTIVE) {
    const run = latestRun(this.#o.sql);
    if (!run || !accepted.has(run.status))
      throw new NoActiveRunError(this.#o.sessionId, action, run?.status ?? null);
    return run;
  }

  /** What run control decides over, read from the projections now. */
  #state(): ControlState {
    const { sql, agent, state } = this.#o;
    const run = latestRun(sql);
    const start = run ? listCheckpoints(sql, run.startedSeq - 1, 1, run.runId)[0] : undefined;
    return {
      sessionId: this.#o.sessionId,
      run,
      calls: run?.phase === "tools" ? stepToolCalls(sql, run.runId, run.step) : [],
      delegated: run ? delegatedCalls(sql, run.runId) : [],
      findCheckpoint: (id) => (/^\d{1,15}$/.test(id) ? getCheckpoint(sql, Number(id)) : undefined),
      startCheckpoint: start,
      latestCheckpoint: run ? latestCheckpoint(sql, run.runId) : undefined,
      checkArgs: (call, args) => checkArgs(agent, call.name, args),
      restoreState: (runId, checkpoint) => state.restore(runId, checkpoint.seq),
    };
  }
}

/** 400 `invalid_tool_args` when an approval's edited arguments do not fit the tool's input schema. */
function checkArgs(agent: AgentDefinition, toolName: string, args: JsonValue): void {
  const tool = agent.tools.find((t) => t.name === toolName);
  const parsed = tool && parseToolInput(tool.name, tool.input, args);
  // A schema that only validates asynchronously is checked when the call runs (tool.failed).
  if (parsed && !(parsed instanceof Promise) && !parsed.success) {
    throw new BadRequestError(
      "invalid_tool_args",
      `the edited arguments for ${toolName} do not match its input schema: ${parsed.message}`,
    );
  }
}
