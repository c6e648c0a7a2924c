import type { LanguageModelV4, LanguageModelV4CallOptions } from "@ai-sdk/provider";
import type { AppContext } from "../app-events/app-context.ts";
import type { StagedEffects } from "../app-events/staged.ts";
import type { Clock } from "../clock.ts";
import { DurableAgentsError, TerminalError } from "../errors/base.ts";
import type { NewEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import {
  getRun,
  RUN_STATUS_AFTER,
  type RunRecord,
  type RunStatus,
  runStartSettings,
} from "../ledger/projections/runs.ts";
import { stepToolCalls, type ToolCallRecord } from "../ledger/projections/tool-calls.ts";
import { listMcpTools, mcpToolsOfRun } from "../mcp/run-tools.ts";
import type { SqlPort } from "../sql/port.ts";
import type { RunTracer } from "../tracing/run-tracer.ts";
import type { DueItem } from "../triggers/due-work.ts";
import type { TriggerHandler, TriggerOutcome } from "../triggers/pump.ts";
import type { AppState } from "./app-state.ts";
import { type CoalesceOptions, DeltaCoalescer } from "./coalescer.ts";
import { ContextCompactor } from "./context-compaction.ts";
import { type AgentDefinition, resolveModel } from "./define-agent.ts";
import { delegationOf } from "./define-subagent.ts";
import type { AnyTool } from "./define-tool.ts";
import type { FaultInjector } from "./faults.ts";
import type { ResolvedDomains } from "./governance.ts";
import { MessageCache } from "./message-cache.ts";
import { callModel } from "./model-call.ts";
import { emptyAnswerError } from "./model-errors.ts";
import {
  callSettings,
  checkPreparedStep,
  type ModelOptions,
  toolChoiceProblem,
} from "./model-options.ts";
import { DEFAULT_MODEL_TIMEOUTS, ModelWatchdog } from "./model-timeouts.ts";
import { toolSpecs } from "./prompt.ts";
import { RUN_STEP_KIND, type RunPayload } from "./runtime-work.ts";
import { nextAction } from "./step-machine.ts";
import { finalOutput, jsonFormat } from "./structured-output.ts";
import { idempotencyKey, runToolStep, type ToolStepHost } from "./tool-step.ts";
import { isWorkflowTool } from "./workflow-calls.ts";

export { idempotencyKey, RUN_STEP_KIND };

/** What `run.interrupted` says when the interrupt request gave no reason. */
export const DEFAULT_INTERRUPT_REASON = "interrupted by request";

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
  /** The application state: tools read it and stage writes that commit with their result. */
  readonly state: AppState;
  /** The allow-lists of the agent's domains, and the fetch tools' `ctx.fetch` goes through. */
  readonly domains: ResolvedDomains;
  readonly fetch: typeof fetch;
  /** Records the model and tool calls' spans (tracing/run-tracer.ts); absent: no tracing. */
  readonly tracer?: RunTracer;
  /** A tool call's `emit`, `projection` and `schedule` (app-events/app-context.ts). */
  readonly app: (staged: StagedEffects) => AppContext;
}

interface InFlight {
  readonly model: AbortController;
  readonly tools: AbortController;
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
  readonly #context: ContextCompactor;
  /** The calls in flight per run: one for the alarm driver, one per tool step on the Workflow executor. */
  readonly #inFlight = new Map<string, Set<InFlight>>();
  /**
   * The status of the runs this driver is stepping, read once per step (`run`) and then
   * moved by the ledger's own events (RUN_STATUS_AFTER, the runs projection's rule), so
   * the checks before each commit (`#stillRunning`) read no row.
   */
  readonly #status = new Map<string, RunStatus>();
  /** The latest `step.started` this object appended per run ("step/attempt"): a stale attempt commits nothing. */
  readonly #attempts = new Map<string, string>();
  /**
   * The model options of the runs in `#status`, read once per run: they come only from its
   * `run.started` (the runs projection's `model_options`), which never changes.
   */
  readonly #modelOptions = new Map<string, ModelOptions | undefined>();

  /** The driver's side of a tool step (tool-step.ts). */
  readonly #toolHost: ToolStepHost;

  constructor(options: RunDriverOptions) {
    this.#o = options;
    this.#toolHost = {
      options,
      stillRunning: (runId) => this.#stillRunning(runId),
      append: (events, effects) => this.#append(events, effects),
      tools: (runId) => this.#tools(runId),
      delegation: (name) => this.#delegation(name),
      isWorkflow: (name) => this.#isWorkflow(name),
    };
    this.#messages = new MessageCache(options.sql, {
      compacted: options.agent.context !== undefined,
    });
    const { sql, ledger, agent, env, sessionId, clock } = options;
    const cache = this.#messages;
    this.#context = new ContextCompactor({ sql, ledger, agent, env, sessionId, clock, cache });
    options.ledger.onAppend((events) => {
      for (const event of events) {
        if (event.kind === "step.started" && event.runId !== null)
          this.#attempts.set(event.runId, `${event.data.step}/${event.data.attempt}`);
        const status = RUN_STATUS_AFTER[event.kind];
        if (status === undefined || event.runId === null || !this.#status.has(event.runId))
          continue;
        // Only "running" is kept: anything else is read again by the next check (once).
        if (status === "running") this.#status.set(event.runId, status);
        else this.#forget(event.runId);
      }
    });
  }

  interruptInFlight(runId: string): void {
    for (const flight of this.#inFlight.get(runId) ?? [])
      flight.model.abort(new Error("interrupted"));
  }

  abortInFlight(runId: string): void {
    for (const flight of this.#inFlight.get(runId) ?? []) {
      flight.model.abort(new Error("aborted"));
      flight.tools.abort(new Error("aborted"));
    }
  }

  async run(payload: RunPayload): Promise<TriggerOutcome> {
    const outcome = await this.#act(payload);
    // A run that stopped (ended, waits, interrupted) leaves an idle object: bound its cache.
    if (outcome.type === "done" && this.#inFlight.size === 0) this.#messages.release();
    return outcome;
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
   * Decide and commit: reads the run, asks the step machine for its next action, and commits
   * the actions that are only ledger writes (interrupt, fail, pause, finish-step, approval
   * requests). Returns what must still be performed (a model call, tool calls), `again` when
   * a commit moved the run and the next decision is due at once, or `stop`. Both executors
   * call this: the alarm driver (`run`) and the Workflow (`WorkflowRunHost.decide`).
   */
  async decide(runId: string): Promise<Decided> {
    const run = getRun(this.#o.sql, runId);
    if (run?.status === "running") this.#status.set(runId, run.status);
    else this.#forget(runId);
    const calls = run?.phase === "tools" ? stepToolCalls(this.#o.sql, runId, run.step) : [];
    const action = nextAction(run, calls, {
      maxSteps: this.#o.agent.maxSteps,
      maxModelAttempts: this.#o.limits.maxModelAttempts,
      needsApproval: (call) => this.#needsApproval(call),
      waitsOn: (call) => (this.#isWorkflow(call.name) ? "workflow" : "subagent"),
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
                ...(this.#isClientTool(c) ? { client: true as const } : {}),
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
  perform(runId: string, action: Performable): Promise<TriggerOutcome> {
    return action.type === "model"
      ? this.#modelStep(runId, action.step, action.attempt)
      : this.#toolStep(runId, action.step, action.run, action.unknown, action.inStep === true);
  }

  giveUp({ runId }: RunPayload, error: unknown, _item?: DueItem): undefined {
    const run = getRun(this.#o.sql, runId);
    if (!run || (run.status !== "running" && run.status !== "waiting")) return;
    const code = error instanceof DurableAgentsError ? error.code : "step_failed";
    const message = error instanceof Error ? error.message : String(error);
    this.#append([{ kind: "run.failed", runId, data: { error: { code, message } } }]);
  }

  async #modelStep(runId: string, step: number, attempt: number): Promise<TriggerOutcome> {
    const { agent, faults } = this.#o;
    // Registered before the first await, so an abort from here on reaches the call.
    const flight = this.#flight(runId);
    let listed: NewEvent<"mcp.tools_listed">[];
    try {
      await faults?.("before-model", { sessionId: this.#o.sessionId, runId, step });
      // MCP servers are listed once per run, before its first model call (see mcp/run-tools.ts).
      listed = await listMcpTools(agent, this.#o.sql, this.#o.env, runId, flight.model.signal);
    } catch (error) {
      this.#landed(runId, flight);
      throw error;
    }
    if (!this.#stillRunning(runId)) {
      this.#landed(runId, flight);
      return DONE;
    }
    if (listed.length > 0) this.#append(listed);
    this.#append([{ kind: "step.started", runId, data: { step, attempt } }]);
    let flushed = false;
    const coalescer = new DeltaCoalescer(this.#o.clock, this.#o.coalesce, (text) => {
      if (!this.#stillRunning(runId)) return;
      this.#append([{ kind: "model.delta", runId, data: { step, text } }]);
      if (!flushed) {
        flushed = true;
        // Sync point inside the stream: a crash here (throw or abort) is possible, a pause is not.
        const paused = faults?.("mid-stream", { sessionId: this.#o.sessionId, runId, step });
        // A promise cannot pause a synchronous stream callback: a rejection here is only noise.
        if (paused instanceof Promise) paused.catch(() => undefined);
      }
    });
    // Reasoning deltas, coalesced like the text; each kind flushes the other before it appends.
    const thinking = new DeltaCoalescer(this.#o.clock, this.#o.coalesce, (text) => {
      if (this.#stillRunning(runId))
        this.#append([{ kind: "model.reasoning_delta", runId, data: { step, text } }]);
    });
    let traced: { provider: string; modelId: string; start: number } | undefined;
    try {
      const { model, options } = await this.#prepareCall(runId, step, attempt, flight.model.signal);
      const timeouts = { ...DEFAULT_MODEL_TIMEOUTS, ...agent.modelTimeouts };
      const watchdog = new ModelWatchdog(
        this.#o.clock,
        timeouts,
        `${model.provider}:${model.modelId}`,
      );
      traced = { provider: model.provider, modelId: model.modelId, start: this.#o.clock.now() };
      const result = await callModel(
        model,
        { ...options, abortSignal: flight.model.signal },
        {
          text: (delta) => {
            // Text after reasoning: the reasoning so far is on the ledger first.
            thinking.flush();
            coalescer.push(delta);
          },
          reasoningDelta: (delta) => {
            coalescer.flush();
            thinking.push(delta);
          },
          reasoning: (whole) => {
            thinking.flush();
            if (this.#stillRunning(runId))
              this.#append([{ kind: "model.reasoning", runId, data: { step, text: whole } }]);
          },
        },
        watchdog,
      );
      thinking.flush();
      coalescer.flush();
      this.#o.tracer?.model(
        runId,
        {
          step,
          attempt,
          ...traced,
          usage: result.usage,
          finishReason: result.finishReason,
          response: result.response,
        },
        traced.start,
        this.#o.clock.now(),
      );
      // Idempotent by (step, attempt): a call whose attempt is no longer the run's current one
      // (a Workflow step retried while this call still ran) commits nothing.
      if (!this.#stillRunning(runId) || !this.#currentAttempt(runId, step, attempt)) return DONE;
      const { interrupted, response: _response, ...outcome } = result;
      const completed: NewEvent<"model.completed"> = {
        kind: "model.completed",
        runId,
        data: { step, ...outcome, model: `${model.provider}:${model.modelId}` },
      };
      if (interrupted) {
        this.#append([
          completed,
          { kind: "step.completed", runId, data: { step } },
          {
            kind: "run.interrupted",
            runId,
            data: { reason: interruptReason(getRun(this.#o.sql, runId)) },
          },
        ]);
        return DONE;
      }
      if (result.toolCalls.length > 0) {
        this.#append([completed]);
        return AGAIN;
      }
      // Not an answer: retried as a model error (a new attempt of this step), then terminal.
      const empty = emptyAnswerError(result, result.finishReason);
      if (empty) throw empty;
      const final = finalOutput(agent, result.text);
      this.#append([
        completed,
        { kind: "step.completed", runId, data: { step } },
        final.ok
          ? { kind: "run.completed", runId, data: { output: final.output } }
          : { kind: "run.failed", runId, data: { error: final.error } },
      ]);
      return DONE;
    } catch (error) {
      const info = errorInfo(error);
      const now = this.#o.clock.now();
      if (traced)
        this.#o.tracer?.model(runId, { step, attempt, ...traced, error: info }, traced.start, now);
      this.#o.tracer?.stepFailed(runId, step, attempt, info, now);
      throw error;
    } finally {
      this.#landed(runId, flight);
    }
  }

  /** The run's own model settings, as its `run.started` recorded them (the runs projection). */
  #runModelOptions(runId: string): ModelOptions | undefined {
    if (this.#modelOptions.has(runId)) return this.#modelOptions.get(runId);
    const options = runStartSettings(this.#o.sql, runId)?.modelOptions;
    if (this.#status.has(runId)) this.#modelOptions.set(runId, options);
    return options;
  }

  /** The run is no longer followed as running here: its status and settings are read again. */
  #forget(runId: string): void {
    this.#status.delete(runId);
    this.#modelOptions.delete(runId);
  }

  /** The model and call options of one step: the agent's, the run's, then what `prepareStep` changes. */
  async #prepareCall(
    runId: string,
    step: number,
    attempt: number,
    signal: AbortSignal,
  ): Promise<{ model: LanguageModelV4; options: LanguageModelV4CallOptions }> {
    const { agent, env, sessionId } = this.#o;
    // Compacted first when the agent's `context` says so, by this attempt only (context-compaction.ts).
    const prompt = await this.#context.prompt({
      runId,
      step,
      signal,
      commit: (event) => {
        if (!this.#stillRunning(runId) || !this.#currentAttempt(runId, step, attempt)) return false;
        this.#append([event]);
        return true;
      },
    });
    const prepared = await agent.prepareStep?.({ sessionId, runId, step, attempt, prompt, env });
    checkPreparedStep(step, prepared);
    const system = prepared?.system;
    const active = prepared?.activeTools;
    const keep = (name: string) => !active || active.includes(name);
    const tools = agent.tools.filter((t) => keep(t.name));
    const mcp = mcpToolsOfRun(agent, this.#o.sql, env, runId).specs.filter((t) => keep(t.name));
    const specs = [...(tools.length > 0 ? toolSpecs(tools) : []), ...mcp];
    const settings = callSettings(agent.modelOptions, this.#runModelOptions(runId), prepared);
    // A choice of a tool this call does not offer (not active, or an MCP tool not listed).
    const choice = settings.toolChoice?.type === "tool" ? settings.toolChoice : undefined;
    const problem = toolChoiceProblem(
      choice,
      specs.map((s) => s.name),
    );
    if (problem)
      throw new TerminalError("invalid_tool_choice", `step ${step}: modelOptions.${problem}`);
    return {
      model: prepared?.model ?? resolveModel(agent, env),
      options: {
        ...settings,
        prompt:
          system === undefined
            ? prompt
            : [{ role: "system", content: system }, ...prompt.filter((m) => m.role !== "system")],
        tools: specs.length > 0 ? specs : undefined,
        responseFormat: agent.outputSchema ? jsonFormat(agent.name, agent.outputSchema) : undefined,
      },
    };
  }

  async #toolStep(
    runId: string,
    step: number,
    toRun: readonly ToolCallRecord[],
    unknown: readonly ToolCallRecord[],
    inStep: boolean,
  ): Promise<TriggerOutcome> {
    // Registered before the first await: an abort landing anywhere in the step (the workflow
    // digests, the durability barrier, a fault point) aborts this signal, never a stale one.
    const flight = this.#flight(runId);
    try {
      const action = { runId, step, toRun, unknown, inStep };
      return await runToolStep(this.#toolHost, action, flight.tools.signal);
    } finally {
      this.#landed(runId, flight);
    }
  }

  #delegation(name: string) {
    return delegationOf(this.#o.agent.tools.find((t) => t.name === name));
  }

  #isWorkflow(name: string): boolean {
    return isWorkflowTool(this.#o.agent.tools.find((t) => t.name === name));
  }

  /** The agent's tools and the MCP tools recorded for this run. */
  #tools(runId: string): readonly AnyTool[] {
    const { agent } = this.#o;
    if (!agent.mcp?.length) return agent.tools;
    return [...agent.tools, ...mcpToolsOfRun(agent, this.#o.sql, this.#o.env, runId).tools];
  }

  #isClientTool(call: ToolCallRecord): boolean {
    return this.#tools(call.runId).find((t) => t.name === call.name)?.client === true;
  }

  /** A client-side tool always waits: for its output, sent by the client. */
  #needsApproval(call: ToolCallRecord): boolean {
    if (this.#isClientTool(call)) return true;
    const rule = this.#tools(call.runId).find((t) => t.name === call.name)?.needsApproval;
    if (typeof rule !== "function") return rule === true;
    try {
      return rule(call.args);
    } catch {
      return true; // A rule that cannot decide asks the human.
    }
  }

  #flight(runId: string): InFlight {
    const flight = { model: new AbortController(), tools: new AbortController() };
    const flights = this.#inFlight.get(runId) ?? new Set<InFlight>();
    flights.add(flight);
    this.#inFlight.set(runId, flights);
    return flight;
  }

  #landed(runId: string, flight: InFlight): void {
    const flights = this.#inFlight.get(runId);
    flights?.delete(flight);
    if (flights?.size === 0) this.#inFlight.delete(runId);
  }

  /** No newer attempt of the run's model call started here since this one (read from memory). */
  #currentAttempt(runId: string, step: number, attempt: number): boolean {
    const latest = this.#attempts.get(runId);
    return latest === undefined || latest === `${step}/${attempt}`;
  }

  /** Decide before commit: events of a run that was aborted meanwhile are dropped. */
  #stillRunning(runId: string): boolean {
    const known = this.#status.get(runId);
    return (known ?? getRun(this.#o.sql, runId)?.status) === "running";
  }

  #append(events: NewEvent[], effects?: (sql: SqlPort) => void): void {
    this.#o.ledger.append(events, effects);
  }
}

/** A thrown error as the ledger states one: its code when it is ours. */
function errorInfo(error: unknown): { code: string; message: string } {
  if (error instanceof DurableAgentsError) return { code: error.code, message: error.message };
  return { code: "model_error", message: error instanceof Error ? error.message : String(error) };
}

/** The reason the interrupt request gave (POST interrupt {reason}), carried to `run.interrupted`. */
function interruptReason(run: RunRecord | undefined): string {
  return run?.interruptReason ?? DEFAULT_INTERRUPT_REASON;
}
