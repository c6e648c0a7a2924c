import type { AppContext } from "../app-events/app-context.ts";
import type { StagedEffects } from "../app-events/staged.ts";
import type { Clock } from "../clock.ts";
import { DurableAgentsError } from "../errors/base.ts";
import type { NewEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { runStartSettings } from "../ledger/projections/runs.ts";
import type { ToolCallRecord } from "../ledger/projections/tool-calls.ts";
import type { SqlPort } from "../sql/port.ts";
import type { RunTracer } from "../tracing/run-tracer.ts";
import type { DueItem } from "../triggers/due-work.ts";
import type { TriggerHandler, TriggerOutcome } from "../triggers/pump.ts";
import type { AppState } from "./app-state.ts";
import type { CoalesceOptions } from "./coalescer.ts";
import { ContextCompactor } from "./context-compaction.ts";
import type { AgentDefinition } from "./define-agent.ts";
import { failDelegated } from "./failed-calls.ts";
import type { FaultInjector } from "./faults.ts";
import type { ResolvedDomains } from "./governance.ts";
import type { IdlePromptCaches } from "./idle-prompt-caches.ts";
import { type InFlight, InFlightCalls } from "./in-flight.ts";
import { MessageCache } from "./message-cache.ts";
import type { ModelOptions } from "./model-options.ts";
import {
  DEFAULT_INTERRUPT_REASON,
  interruptReason,
  type ModelStepHost,
  runModelStep,
} from "./model-step.ts";
import { RunRecords } from "./run-records.ts";
import { RUN_STEP_KIND, type RunPayload } from "./runtime-work.ts";
import { nextAction } from "./step-machine.ts";
import { ToolRules } from "./tool-rules.ts";
import { idempotencyKey, runToolStep, type ToolStepHost } from "./tool-step.ts";
import type { ToolWorkflowRefusal } from "./workflow-calls.ts";

export { DEFAULT_INTERRUPT_REASON, idempotencyKey, RUN_STEP_KIND };

export interface RunDriverOptions {
  readonly sql: SqlPort;
  readonly ledger: Ledger;
  readonly agent: AgentDefinition;
  readonly sessionId: string;
  readonly env: Record<string, unknown>;
  readonly clock: Clock;
  readonly coalesce: CoalesceOptions;
  readonly faults: FaultInjector | undefined;
  readonly durable: () => Promise<void>;
  readonly limits: { readonly maxModelAttempts: number; readonly maxToolResultBytes: number };
  /** The budget its prompt cache is kept in between runs (default: the isolate's). */
  readonly idlePromptCaches?: IdlePromptCaches;
  /** The application state: tools read it and stage writes that commit with their result. */
  readonly state: AppState;
  /** The allow-lists of the agent's domains, and the fetch tools' `ctx.fetch` goes through. */
  readonly domains: ResolvedDomains;
  readonly fetch: typeof fetch;
  /** Records the model and tool calls' spans (tracing/run-tracer.ts); absent: no tracing. */
  readonly tracer?: RunTracer;
  /** A tool call's `emit`, `projection` and `schedule` (app-events/app-context.ts). */
  readonly app: (staged: StagedEffects) => AppContext;
  /** Why an `executor: "workflow"` call can get no instance here (workflow-calls.ts). */
  readonly workflowRefusal: ToolWorkflowRefusal;
}

const AGAIN: TriggerOutcome = { type: "again" };
const DONE: TriggerOutcome = { type: "done" };
const STOP: Decided = { type: "stop" };

/** What must still be performed after a decision: a model call, or tool calls of one step. */
export type Performable =
  | {
      readonly type: "model";
      readonly step: number;
      readonly attempt: number;
    }
  | {
      readonly type: "tools";
      readonly step: number;
      readonly run: readonly ToolCallRecord[];
      readonly unknown: readonly ToolCallRecord[];
      /**
       * The Workflow executor performs `executor: "workflow"` tools in its own step: they get
       * their `tool.started` here and no instance of their own (workflow-run/host.ts).
       */
      readonly inStep?: boolean;
    };

/**
 * A decision and its commit (`RunDriver.decide`): `stop` (nothing to perform: the run ended,
 * waits, was interrupted, or is not running), `again` (a commit moved the run: decide again),
 * or what to perform.
 */
export type Decided = { readonly type: "stop" } | { readonly type: "again" } | Performable;

/**
 * Executes the step machine's actions for the `run.step` trigger. Each call
 * does one action and commits its events; the pump then claims the run again
 * for the next one, so every boundary is a durable point to recover from.
 */
export class RunDriver implements TriggerHandler<RunPayload> {
  readonly #o: RunDriverOptions;
  readonly #messages: MessageCache;
  /** The calls in flight per run, and when the prompt cache goes idle (in-flight.ts). */
  readonly #inFlight: InFlightCalls;
  /**
   * The running runs' records and current step calls, read once and then moved by the rows
   * each append's projections wrote (run-records.ts), so neither a decision nor the checks
   * before each commit (`#stillRunning`) read a row again.
   */
  readonly #runs: RunRecords;
  /** The latest `step.started` this object appended per run ("step/attempt"): a stale attempt commits nothing. */
  readonly #attempts = new Map<string, string>();
  /**
   * The model options of the runs `#runs` follows, read once per run: they come only from its
   * `run.started` (the runs projection's `model_options`), which never changes.
   */
  readonly #modelOptions = new Map<string, ModelOptions | undefined>();

  /** The driver's side of a model step (model-step.ts) and of a tool step (tool-step.ts). */
  readonly #host: ModelStepHost & ToolStepHost;
  /** Which tools a run has, who performs each call, and which calls wait for an approval. */
  readonly #rules: ToolRules;

  constructor(options: RunDriverOptions) {
    this.#o = options;
    this.#messages = new MessageCache(options.sql, {
      compacted: options.agent.context !== undefined,
      idle: options.idlePromptCaches,
    });
    const { sql, ledger, agent, env, sessionId, clock, tracer } = options;
    const cache = this.#messages;
    this.#inFlight = new InFlightCalls(() => cache.release());
    const context = new ContextCompactor({
      sql,
      ledger,
      agent,
      env,
      sessionId,
      clock,
      cache,
      tracer,
    });
    this.#runs = new RunRecords(sql, ledger, (runId) => this.#modelOptions.delete(runId));
    this.#rules = new ToolRules(agent, sql, env);
    this.#host = {
      options,
      context,
      run: (runId) => this.#runs.run(runId),
      stillRunning: (runId) => this.#stillRunning(runId),
      currentAttempt: (runId, step, attempt) => this.#currentAttempt(runId, step, attempt),
      append: (events, effects) => this.#append(events, effects),
      runModelOptions: (runId) => this.#runModelOptions(runId),
      rules: this.#rules,
    };
    options.ledger.onAppend((events) => {
      for (const event of events) {
        if (event.kind === "step.started" && event.runId !== null)
          this.#attempts.set(event.runId, `${event.data.step}/${event.data.attempt}`);
      }
    });
  }

  interruptInFlight(runId: string): void {
    this.#inFlight.interrupt(runId);
  }

  /**
   * The run was aborted (its step rows went with the abort's append): its calls in flight are
   * signalled, and no step of it follows, so no decision of it will settle the prompt cache:
   * the abort does (in-flight.ts, `settle`), now or when the calls in flight land.
   */
  abortInFlight(runId: string): void {
    this.#inFlight.abort(runId);
    this.#inFlight.settle(false);
  }

  run(payload: RunPayload): Promise<TriggerOutcome> {
    return this.#act(payload);
  }

  async #act({ runId }: RunPayload): Promise<TriggerOutcome> {
    const decided = await this.decide(runId);
    switch (decided.type) {
      case "stop":
        return DONE;
      case "again":
        return AGAIN;
      default:
        return this.perform(runId, decided);
    }
  }

  /**
   * Decide and commit: takes the run's record (and its step's calls in the tools phase) as
   * `#runs` keeps them, equal to their rows (read once, not per decision), asks the step
   * machine for its next action, and commits the actions that are only ledger writes
   * (interrupt, fail, pause, finish-step, approval requests). Returns what must still be
   * performed (a model call, tool calls), `again` when a commit moved the run and the next
   * decision is due at once, or `stop`. Both executors call this: the alarm driver (`run`)
   * and the Workflow (`WorkflowRunHost.call`).
   */
  async decide(runId: string): Promise<Decided> {
    let decided: Decided | undefined;
    try {
      decided = await this.#decide(runId);
      return decided;
    } finally {
      // Stopped, or threw (retried after a delay): idle. An action to perform now: in use.
      if (decided === undefined || decided.type === "stop") this.#inFlight.settle(false);
      else if (decided.type !== "again") this.#inFlight.inUse();
    }
  }

  async #decide(runId: string): Promise<Decided> {
    const run = this.#runs.run(runId);
    const calls = run?.phase === "tools" ? this.#runs.stepCalls(run) : [];
    const action = nextAction(run, calls, {
      maxSteps: this.#o.agent.maxSteps,
      maxModelAttempts: this.#o.limits.maxModelAttempts,
      needsApproval: (call) => this.#rules.needsApproval(call),
      waitsOn: (call) => this.#rules.waitsOn(call),
    });
    switch (action.type) {
      case "idle":
        return STOP;
      case "interrupt":
        this.#append([{ kind: "run.interrupted", runId, data: { reason: interruptReason(run) } }]);
        return STOP;
      case "fail":
        this.#append([
          {
            kind: "run.failed",
            runId,
            data: { error: { code: action.code, message: action.message } },
          },
        ]);
        return STOP;
      case "pause":
        this.#append([{ kind: "run.waiting", runId, data: { reason: action.reason } }]);
        return STOP;
      case "finish-step":
        // No durability wait: nothing leaves the object on the strength of it (durability.ts).
        this.#append([{ kind: "step.completed", runId, data: { step: action.step } }]);
        await this.#o.faults?.("after-step-commit", {
          sessionId: this.#o.sessionId,
          runId,
          step: action.step,
        });
        return { type: "again" };
      case "request-approval":
        this.#append([
          ...action.calls.map(
            (c): NewEvent => ({
              kind: "approval.requested",
              runId,
              data: {
                step: action.step,
                callId: c.callId,
                name: c.name,
                args: c.args,
                ...(this.#rules.isClientTool(c) ? { client: true as const } : {}),
              },
            }),
          ),
          { kind: "run.waiting", runId, data: { reason: "approval" } },
        ]);
        return STOP;
      case "model":
        return { type: "model", step: action.step, attempt: action.attempt };
      case "tools":
        return { type: "tools", step: action.step, run: action.run, unknown: action.unknown };
    }
  }

  /**
   * Perform one decided action and commit its events: the model call (streamed deltas, then
   * the completed step) or the tool calls (`tool.started` durable before any effect, then each
   * result). `again` when the run goes on. Both executors call this; the Workflow executor
   * passes one tool call per Workflow step.
   */
  async perform(runId: string, action: Performable): Promise<TriggerOutcome> {
    // Registered before the first await: an abort landing anywhere in the step (the MCP
    // listing, the workflow digests, the durability barrier, a fault point) aborts this
    // signal, never a stale one.
    const flight = this.#inFlight.start(runId);
    let goesOn = false;
    try {
      const outcome = await this.#perform(runId, action, flight);
      goesOn = outcome.type === "again" && !this.#jobInStep(action);
      return outcome;
    } finally {
      this.#inFlight.landed(runId, flight);
      this.#inFlight.settle(goesOn);
    }
  }

  #perform(runId: string, action: Performable, flight: InFlight): Promise<TriggerOutcome> {
    if (action.type === "model") {
      const { step, attempt } = action;
      return runModelStep(this.#host, { runId, step, attempt }, flight.model.signal);
    }
    const { step, run: toRun, unknown } = action;
    const tools = { runId, step, toRun, unknown, inStep: action.inStep === true };
    return runToolStep(this.#host, tools, flight.tools.signal);
  }

  /**
   * A workflow tool's call performed in a Workflow step: only its `tool.started` here; its job
   * then runs in the run's Workflow step (for minutes or hours), and no step of the run follows
   * before it ends.
   */
  #jobInStep(action: Performable): boolean {
    return (
      action.type === "tools" &&
      action.inStep === true &&
      action.run.some((c) => this.#rules.isWorkflow(c.name))
    );
  }

  giveUp({ runId }: RunPayload, error: unknown, _item?: DueItem): undefined {
    // The run fails: no step of it follows.
    this.#inFlight.settle(false);
    const run = this.#runs.run(runId);
    if (!run || (run.status !== "running" && run.status !== "waiting")) return;
    const code = error instanceof DurableAgentsError ? error.code : "step_failed";
    const message = error instanceof Error ? error.message : String(error);
    // Calls still delegated (a sub-agent, a Workflow) will never be answered: they fail with it.
    const failed = failDelegated(this.#o.sql, runId, {
      code: "run_failed",
      message: `the run failed (${code}) before the call answered`,
    });
    this.#append([...failed, { kind: "run.failed", runId, data: { error: { code, message } } }]);
  }

  /** The run's own model settings, as its `run.started` recorded them (the runs projection). */
  #runModelOptions(runId: string): ModelOptions | undefined {
    if (this.#modelOptions.has(runId)) return this.#modelOptions.get(runId);
    const options = runStartSettings(this.#o.sql, runId)?.modelOptions;
    if (this.#runs.follows(runId)) this.#modelOptions.set(runId, options);
    return options;
  }

  /** No newer attempt of the run's model call started here since this one (read from memory). */
  #currentAttempt(runId: string, step: number, attempt: number): boolean {
    const latest = this.#attempts.get(runId);
    return latest === undefined || latest === `${step}/${attempt}`;
  }

  /** Decide before commit: events of a run that was aborted meanwhile are dropped. */
  #stillRunning(runId: string): boolean {
    return this.#runs.run(runId)?.status === "running";
  }

  #append(events: NewEvent[], effects?: (sql: SqlPort) => void): void {
    this.#o.ledger.append(events, effects);
  }
}
