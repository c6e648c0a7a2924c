import type { AppContext, ScheduleRequest, StagedAppContext } from "../app-events/app-context.ts";
import { AppProjections } from "../app-events/app-projections.ts";
import { appEvent } from "../app-events/define-event.ts";
import type { StagedEffects } from "../app-events/staged.ts";
import {
  assertDistinctSubscriptions,
  subscriptionHandler,
  subscriptionReactor,
} from "../app-events/subscriptions.ts";
import { type Clock, systemClock } from "../clock.ts";
import { TRUSTED_CALLER } from "../commands/caller.ts";
import { dispatchCommand } from "../commands/dispatch.ts";
import { DurableAgentsError } from "../errors/base.ts";
import { BadRequestError, ConflictError, NotFoundError } from "../errors/http-errors.ts";
import type { ErrorInfo, JsonValue, LedgerEvent, NewEvent, ParentRef } from "../ledger/events.ts";
import { Ledger } from "../ledger/ledger.ts";
import { encodeOffset } from "../ledger/offset.ts";
import {
  getCheckpoint,
  latestCheckpoint,
  listCheckpoints,
} from "../ledger/projections/checkpoints.ts";
import { SESSION_PROJECTIONS } from "../ledger/projections/index.ts";
import { getRun, latestRun } from "../ledger/projections/runs.ts";
import { delegatedCalls, stepToolCalls } from "../ledger/projections/tool-calls.ts";
import { silentLogger } from "../logger.ts";
import type { SqlPort } from "../sql/port.ts";
import type { RunTracer } from "../tracing/run-tracer.ts";
import { DueWork } from "../triggers/due-work.ts";
import { type TriggerHandler, TriggerPump } from "../triggers/pump.ts";
import { Schedules, type ScheduleView, type When } from "../triggers/schedules.ts";
import { AppState } from "./app-state.ts";
import { DEFAULT_COALESCE } from "./coalescer.ts";
import { completionHookHandler, completionHookReactor } from "./completion-hook.ts";
import type { AgentDefinition, RunExecutor } from "./define-agent.ts";
import { failedCalls } from "./failed-calls.ts";
import { resolveDomains } from "./governance.ts";
import { toolChoiceProblem } from "./model-options.ts";
import {
  type ControlState,
  decideResume,
  decideRetry,
  type ResumeCheck,
  type ResumeRequest,
  type RetryRequest,
} from "./run-control.ts";
import { DEFAULT_INTERRUPT_REASON, RunDriver } from "./run-driver.ts";
import { NoActiveRunError, RunActiveError } from "./run-errors.ts";
import {
  ON_COMPLETE_KIND,
  ON_EVENT_KIND,
  RUN_STEP_KIND,
  RUN_WORKFLOW_KIND,
  RUN_WORKFLOW_TERMINATE_KIND,
  type RuntimeHandlers,
  runtimeHandlerEntries,
  SUBAGENT_SEND_KIND,
  scheduleRuntimeWork,
} from "./runtime-work.ts";
import {
  cancelChild,
  forkPrefix,
  importFork,
  type LinkContext,
  receiveReply,
  settleDelegated,
  startChild,
  subagentMessenger,
} from "./session-links.ts";
import {
  DEFAULT_RUNTIME_LIMITS,
  type RuntimeLimits,
  type SessionRuntimeOptions,
  type SessionStatus,
  type StartedRun,
  type StartInput,
  type StatusView,
} from "./session-runtime-options.ts";
import { subagentRepliesProjection } from "./subagent-replies.ts";
import type { CancelChild, ChildReply, StartChild } from "./subagents.ts";
import { parseToolInput } from "./tool-schema.ts";
import { toUserFiles } from "./user-files.ts";
import {
  type ToolWorkflowOutcome,
  type ToolWorkflowParams,
  type ToolWorkflowResult,
  workflowResultEvents,
} from "./workflow-calls.ts";
import { workflowHandlers } from "./workflow-check.ts";
import { WorkflowRunHost } from "./workflow-run/host.ts";
import {
  DEFAULT_RUN_WORKFLOW_CHECK_MS,
  runInstanceHandlers,
  startRefused,
  workflowRunKey,
  workflowsUnavailable,
} from "./workflow-run/instances.ts";
import type {
  AgentWorkflowPort,
  WorkflowCall,
  WorkflowCallReply,
  WorkflowDecision,
} from "./workflow-run/protocol.ts";

export {
  DEFAULT_RUNTIME_LIMITS,
  type RuntimeLimits,
  type SessionRuntimeOptions,
  type SessionStatus,
  type StartedRun,
  type StartInput,
  type StatusView,
} from "./session-runtime-options.ts";

/** Statuses of a run that holds the session: no other run can start, and the session cannot close. */
export const ACTIVE: ReadonlySet<SessionStatus> = new Set(["running", "waiting"]);
/** An interrupted run can be resumed, so it can also be aborted (made terminal). */
export const ABORTABLE: ReadonlySet<SessionStatus> = new Set(["running", "waiting", "interrupted"]);

/**
 * One session: its ledger, its due work and its run. The Durable Object holds
 * one of these and forwards requests and alarms to it.
 */
export class SessionRuntime {
  readonly ledger: Ledger;
  readonly work: DueWork;
  /** The application state: GET/PUT .../state, tools' `ctx.state`, restored with checkpoints. */
  readonly state: AppState;
  readonly #sql: SqlPort;
  readonly #agent: AgentDefinition;
  readonly #agentWorkflows: AgentWorkflowPort | undefined;
  readonly #sessionId: string;
  readonly #clock: Clock;
  readonly #newId: () => string;
  readonly #wake: (at: number | null) => void | Promise<void>;
  /** The wake-up last asked of the wake port (null: none, or not known yet). */
  #armedAt: number | null = null;
  readonly #driver: RunDriver;
  /** The Workflow executor's side of the session: the driver's pieces, one step per call. */
  readonly #host: WorkflowRunHost;
  readonly #pump: TriggerPump;
  readonly #limits: RuntimeLimits;
  readonly #tracer: RunTracer | undefined;
  readonly schedules: Schedules;
  /** The application projections: status, rebuild, readers. */
  readonly projections: AppProjections;
  readonly #options: SessionRuntimeOptions;

  constructor(options: SessionRuntimeOptions) {
    // First, before anything is written: AgentConfigError (500) when a tool names an
    // undeclared domain or a domain has no allow-list in this environment.
    const domains = resolveDomains(options.agent, options.env ?? {});
    this.#sql = options.sql;
    this.#agent = options.agent;
    this.#agentWorkflows = options.agentWorkflows;
    this.#sessionId = options.sessionId;
    this.#clock = options.clock ?? systemClock;
    this.#newId =
      options.newId ?? (() => `run_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`);
    this.#wake = (at) => {
      this.#armedAt = at;
      return options.wake(at);
    };
    const logger = options.logger ?? silentLogger;
    this.#options = options;
    this.#limits = { ...DEFAULT_RUNTIME_LIMITS, ...options.limits };
    const subscriptions = options.subscriptions ?? [];
    assertDistinctSubscriptions(subscriptions);
    this.projections = new AppProjections(options.sql, options.appProjections ?? []);
    this.ledger = new Ledger(
      options.sql,
      this.#clock,
      [
        ...SESSION_PROJECTIONS,
        subagentRepliesProjection,
        ...(options.tracing ? [options.tracing.runs.projection] : []),
        ...(options.projections ?? []),
        ...this.projections.ledgerProjections(),
      ],
      [
        ...(subscriptions.length > 0 ? [subscriptionReactor(subscriptions)] : []),
        // The onComplete hook's row commits with each end of a run, whoever appends it.
        ...(options.onComplete ? [completionHookReactor(this.#clock)] : []),
      ],
    );
    this.projections.open(this.ledger);
    this.work = new DueWork(options.sql);
    this.#tracer = options.tracing
      ? options.tracing.runs.tracer({
          sql: options.sql,
          ledger: this.ledger,
          sessionId: options.sessionId,
          waitUntil: options.tracing.waitUntil ?? ((promise) => void promise.catch(() => {})),
        })
      : undefined;
    // Work written by an append outside the alarm (a reply queued by a close, an index
    // message) is due without a wake-up of its own: every wake-up goes through the port.
    // What it decides depends only on the due work (DueWork.revision) and the armed wake-up:
    // an append that changed neither is not asked about again (one query per step, not per event).
    let seen: { revision: number; armedAt: number | null } | undefined;
    this.ledger.onAppend(() => {
      const now = { revision: this.work.revision, armedAt: this.#armedAt };
      if (seen?.revision === now.revision && seen.armedAt === now.armedAt) return;
      seen = now;
      const next = this.work.nextWakeAt();
      if (next === null || (this.#armedAt !== null && this.#armedAt <= next)) return;
      void Promise.resolve(this.#wake(next)).catch((error: unknown) =>
        logger.error("could not arm the wake-up for due work", { error: String(error) }),
      );
    });
    this.state = new AppState({
      sql: options.sql,
      ledger: this.ledger,
      agent: options.agent,
      sessionId: options.sessionId,
    });
    this.#driver = new RunDriver({
      sql: options.sql,
      ledger: this.ledger,
      agent: options.agent,
      sessionId: options.sessionId,
      env: options.env ?? {},
      clock: this.#clock,
      coalesce: options.coalesce ?? DEFAULT_COALESCE,
      faults: options.faults,
      durable: options.durable ?? (async () => {}),
      limits: this.#limits,
      state: this.state,
      domains,
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      tracer: this.#tracer,
      app: (staged) => this.#appContext((event, payload) => staged.emit(event, payload)),
    });
    this.#host = new WorkflowRunHost({
      sql: options.sql,
      driver: this.#driver,
      agent: options.agent,
      sessionId: options.sessionId,
      maxToolResultBytes: this.#limits.maxToolResultBytes,
      append: (events) => this.ledger.append(events),
    });
    this.schedules = new Schedules(options.appTriggers ?? [], {
      work: this.work,
      clock: this.#clock,
      record: (events) => this.ledger.append(events),
      commit: (staged, settle) => staged.commit(this.ledger, options.sql, settle),
      cron: options.cron,
      context: (_key, _attempt, staged) => ({
        ...this.stagedContext(staged),
        sessionId: options.sessionId,
        env: options.env ?? {},
        startRun: (message) =>
          this.start({ message }).catch((error) => {
            if (error instanceof RunActiveError) return undefined;
            throw error;
          }),
      }),
    });
    const runtimeHandlers: RuntimeHandlers = {
      [RUN_STEP_KIND]: this.#driver,
      [SUBAGENT_SEND_KIND]: subagentMessenger(this.#links, this.#clock, options.subagents),
      ...workflowHandlers({
        sql: options.sql,
        work: this.work,
        port: options.workflows,
        clock: this.#clock,
        logger,
        checkMs: options.workflowCheckMs,
        record: (result) => this.receiveToolResult(result),
      }),
      ...runInstanceHandlers({
        sql: options.sql,
        agent: options.agent.name,
        sessionId: options.sessionId,
        port: options.agentWorkflows,
        work: this.work,
        lastSeqOf: (runId) => this.ledger.lastSeqOf(runId),
        checkMs: options.runWorkflowCheckMs ?? DEFAULT_RUN_WORKFLOW_CHECK_MS,
        clock: this.#clock,
        logger,
        fail: (runId, error) => this.#host.giveUp(runId, error),
      }),
      [ON_COMPLETE_KIND]: completionHookHandler(options.onComplete, {
        sql: options.sql,
        ledger: this.ledger,
        agent: options.agent.name,
        sessionId: options.sessionId,
        logger,
        clock: this.#clock,
        faults: options.faults,
        timeoutMs: options.onCompleteTimeoutMs,
        app: (staged) => this.#appContext((event, payload) => staged.emit(event, payload)),
      }),
      [ON_EVENT_KIND]: subscriptionHandler(subscriptions, {
        sql: options.sql,
        ledger: this.ledger,
        agent: options.agent.name,
        sessionId: options.sessionId,
        env: options.env ?? {},
        logger,
        clock: this.#clock,
        faults: options.faults,
        context: (staged) => this.stagedContext(staged),
      }),
    };
    const handlers = new Map<string, TriggerHandler>([
      ...this.schedules.handlers(),
      ...(options.triggers ?? []),
      ...runtimeHandlerEntries(runtimeHandlers),
    ]);
    this.#pump = new TriggerPump(this.work, handlers, this.#clock, logger, {
      onUnknownKind: (item) => this.schedules.recordUnknown(item),
      // A run's step may stream for minutes: the session's other due work runs meanwhile.
      concurrentKinds: new Set([RUN_STEP_KIND]),
      ...options.pump,
    });
    if (options.singleInstance) {
      // A new instance: any lease was held by the previous one, which is gone. Work it left
      // (claimed, or due while it was down) runs now rather than at its lease's end.
      // Whoever woke this instance (a reader reconnecting, a request) gets the run going at
      // once; the alarm stays armed as the guarantee.
      this.work.releaseLeases();
      const next = this.work.nextWakeAt();
      if (next !== null) {
        const kick = async () => {
          await this.#wake(next);
          if (next <= this.#clock.now()) await this.alarm();
        };
        void kick().catch((error) =>
          logger.error("could not restart left-over work", { error: String(error) }),
        );
      }
    }
  }

  status(): StatusView {
    const run = latestRun(this.#sql);
    return {
      session: this.#sessionId,
      agent: this.#agent.name,
      status: run?.status ?? "idle",
      runId: run?.runId ?? null,
      step: run?.step ?? 0,
      offset: encodeOffset(this.ledger.tail),
      closed: this.ledger.closed,
    };
  }

  /**
   * Starts a run with a user message (text, then `files`) and, optionally, this run's
   * `modelOptions` over the agent's (both recorded in `run.started`). Synchronous, so two concurrent starts cannot both pass the check.
   * `replaces`: the latest run, answered again with this one (a chat's regenerate); its
   * messages leave the conversation. 409 `not_latest_run` when it is not the latest run.
   * `state` seeds the application state (a `state.updated` just before `run.started`, in
   * the same transaction: 400 when it does not fit the stateSchema, and nothing is written);
   * `messages` go before `message`; `metadata` is recorded in `run.started`.
   */
  async start(
    input: StartInput,
    parent?: ParentRef,
    parentTrace?: { readonly traceId: string; readonly spanId: string },
  ): Promise<StartedRun> {
    const choice = toolChoiceProblem(
      input.modelOptions?.toolChoice,
      this.#agent.tools.map((t) => t.name),
      (this.#agent.mcp ?? []).length > 0,
    );
    if (choice)
      throw new BadRequestError(
        "invalid_request",
        `modelOptions.${choice} (agent "${this.#agent.name}")`,
      );
    const executor = input.executor ?? this.#agent.executor ?? "alarm";
    const unavailable =
      executor === "workflow" ? workflowsUnavailable(this.#agentWorkflows) : undefined;
    if (unavailable) throw startRefused(unavailable, input.executor !== undefined);
    const current = latestRun(this.#sql);
    if (current && ACTIVE.has(current.status))
      throw new RunActiveError(this.#sessionId, current.runId, current.status);
    if (input.replaces !== undefined && input.replaces !== current?.runId)
      throw new ConflictError(
        "not_latest_run",
        `only the latest answer can be regenerated; run ${input.replaces.slice(0, 64)} is not the latest run of session ${this.#sessionId} (${current?.runId ?? "none"} is)`,
        { details: { latestRunId: current?.runId ?? null } },
      );
    // Checked before anything is decided: a bad seed changes nothing.
    const seed =
      input.state === undefined ? [] : [this.state.check(input.state, { source: "client" })];
    const runId = this.#newId();
    // An interrupted run can never resume once another starts: its delegated calls end here.
    const superseded =
      current?.status === "interrupted"
        ? this.#failDelegated(current.runId, {
            code: "superseded",
            message: `run ${current.runId} was interrupted and then replaced by run ${runId} before the call answered`,
          })
        : [];
    const offset = encodeOffset(this.ledger.tail);
    const now = this.#clock.now();
    const started: NewEvent<"run.started"> = {
      kind: "run.started",
      runId,
      data: {
        agent: this.#agent.name,
        input: {
          message: input.message,
          ...(input.files?.length ? { files: toUserFiles(input.files) } : {}),
          ...(input.messages?.length ? { messages: [...input.messages] } : {}),
        },
        ...(input.modelOptions ? { modelOptions: input.modelOptions } : {}),
        ...(executor === "workflow" ? { executor } : {}),
        ...(input.metadata ? { metadata: { ...input.metadata } } : {}),
        ...(parent ? { parent } : {}),
        ...(input.replaces !== undefined ? { replaces: input.replaces } : {}),
        ...(this.#options.tracing
          ? { trace: this.#options.tracing.runs.newTrace(parentTrace) }
          : {}),
      },
    };
    // The seed is a client write between runs, so the run's start checkpoint includes it.
    const seeded = seed.map((value) => this.state.event(null, value, { source: "client" }));
    this.ledger.append([...superseded, ...seeded, started], () =>
      this.#scheduleStep(runId, executor, now),
    );
    await this.#wake(now);
    return { runId, status: "running", offset };
  }

  /**
   * Soft stop: durable request; the model call in flight is aborted and its partial answer kept.
   * A waiting run is interrupted at once. Calls it delegated (a sub-agent's run, a Workflow)
   * fail in the same append (code `interrupted`) and sub-agents working on them are cancelled
   * (subagent-replies.ts), so a later resume goes on with those calls failed: the model sees
   * the failures and may call again.
   */
  async interrupt(reason = DEFAULT_INTERRUPT_REASON): Promise<StatusView> {
    const run = this.#activeRun("interrupt");
    if (run.status === "waiting") {
      const failed = this.#failDelegated(run.runId, {
        code: "interrupted",
        message: `the run was interrupted (${reason}) before the call answered`,
      });
      this.ledger.append(
        [...failed, { kind: "run.interrupted", runId: run.runId, data: { reason } }],
        () => this.work.cancel(runKey(run.runId)),
      );
    } else if (!run.interruptRequested) {
      this.ledger.append([{ kind: "run.interrupt_requested", runId: run.runId, data: { reason } }]);
      this.#driver.interruptInFlight(run.runId);
      await this.#wake(this.#clock.now());
    }
    return this.status();
  }

  /**
   * Hard stop: terminal at once, for a running, waiting or interrupted run. Tools in
   * flight are signalled and their late results dropped; calls still delegated (to a
   * sub-agent or a Workflow) fail with the abort's reason, and sub-agents working on
   * them are cancelled (subagent-replies.ts).
   */
  async abort(reason = "aborted by request"): Promise<StatusView> {
    const run = this.#activeRun("abort", ABORTABLE);
    const failed = this.#failDelegated(run.runId, {
      code: "aborted",
      message: `the run was aborted (${reason}) before the call answered`,
    });
    const executor = this.#executorOf(run.runId);
    this.ledger.append(
      [...failed, { kind: "run.aborted", runId: run.runId, data: { reason } }],
      () => {
        this.work.cancel(runKey(run.runId));
        this.work.cancel(workflowRunKey(run.runId));
        if (executor === "workflow") {
          const now = this.#clock.now();
          const key = `workflow-terminate:${run.runId}`;
          const payload = { runId: run.runId };
          scheduleRuntimeWork(this.work, RUN_WORKFLOW_TERMINATE_KIND, key, payload, now, now);
        }
      },
    );
    this.#driver.abortInFlight(run.runId);
    await this.#wake(this.work.nextWakeAt());
    return this.status();
  }

  /** Moves a waiting or interrupted run again: continue, with a message, from a checkpoint, or with decisions. */
  async resume(request: ResumeRequest): Promise<StatusView> {
    return this.#commitControl(this.#decideResume(request));
  }

  /**
   * Whether `resume(request)` would be accepted now, and if not why: the resume's own
   * decision (`#decideResume`), run without committing. `reason` and `code` are those of the
   * error the resume would throw (409 `run_running`, `run_not_resumable`, `run_failed`,
   * `session_closed`, 404 `unknown_call`...). Command hooks are not asked: an app's
   * `beforeResume` may still refuse.
   */
  canResume(request: ResumeRequest = {}): ResumeCheck {
    try {
      this.#decideResume(request);
      return { canResume: true };
    } catch (error) {
      if (!(error instanceof DurableAgentsError)) throw error;
      return { canResume: false, code: error.code, reason: error.message };
    }
  }

  /** The resume's decision: the one rule `resume` commits and `canResume` reports. */
  #decideResume(request: ResumeRequest): NewEvent[] {
    this.ledger.assertOpen();
    return decideResume(this.#controlState(), request);
  }

  /** Runs a failed run again from a checkpoint (default: its latest) or from its start. */
  async retry(request: RetryRequest): Promise<StatusView> {
    return this.#commitControl(decideRetry(this.#controlState(), request));
  }

  async #commitControl(events: NewEvent[]): Promise<StatusView> {
    const runId = events[0]?.runId;
    const moves = events.some((e) => e.kind === "run.resumed");
    const now = this.#clock.now();
    const executor = moves && runId ? this.#executorOf(runId) : "alarm";
    this.ledger.append(events, () => {
      if (moves && runId) this.#scheduleStep(runId, executor, now);
    });
    if (moves) await this.#wake(now);
    return this.status();
  }

  #controlState(): ControlState {
    const run = latestRun(this.#sql);
    const start = run ? listCheckpoints(this.#sql, run.startedSeq - 1, 1, run.runId)[0] : undefined;
    return {
      sessionId: this.#sessionId,
      run,
      calls: run?.phase === "tools" ? stepToolCalls(this.#sql, run.runId, run.step) : [],
      findCheckpoint: (id) =>
        /^\d{1,15}$/.test(id) ? getCheckpoint(this.#sql, Number(id)) : undefined,
      startCheckpoint: start,
      latestCheckpoint: run ? latestCheckpoint(this.#sql, run.runId) : undefined,
      checkArgs: (call, args) => this.#checkArgs(call.name, args),
      restoreState: (runId, checkpoint) => this.state.restore(runId, checkpoint.seq),
    };
  }

  #checkArgs(toolName: string, args: JsonValue): void {
    const tool = this.#agent.tools.find((t) => t.name === toolName);
    const parsed = tool && parseToolInput(tool.name, tool.input, args);
    // A schema that only validates asynchronously is checked when the call runs (tool.failed).
    if (parsed && !(parsed instanceof Promise) && !parsed.success) {
      throw new BadRequestError(
        "invalid_tool_args",
        `the edited arguments for ${toolName} do not match its input schema: ${parsed.message}`,
      );
    }
  }

  /** The ledger up to a checkpoint, to seed a fork with. 404 for an unknown checkpoint. */
  forkPrefix(checkpointId: string): LedgerEvent[] {
    return forkPrefix(this.#links, checkpointId);
  }

  /** Makes this (empty) session a fork of another; see session-links.ts. */
  importFork(events: readonly LedgerEvent[], reason: string): void {
    importFork(this.#links, events, reason);
  }

  /** A parent asks this session to answer one of its calls (idempotent). */
  startChild(message: StartChild): Promise<void> {
    return startChild(this.#links, message);
  }

  /** A parent's run ended before this session answered its call (idempotent). */
  cancelChild(message: CancelChild): Promise<void> {
    return cancelChild(this.#links, message);
  }

  /** A child answered one of this session's calls (idempotent). */
  receiveReply(reply: ChildReply): Promise<void> {
    return receiveReply(this.#links, reply);
  }

  /**
   * A Workflow instance answered one of this session's calls. Idempotent: a duplicate, or a
   * result for a run that ended meanwhile, is acknowledged and changes nothing.
   */
  async receiveToolResult(result: ToolWorkflowResult): Promise<void> {
    const { call, outcome } = result;
    const events = workflowResultEvents(this.#sql, call, outcome, this.#limits.maxToolResultBytes);
    if (events.length > 0) await settleDelegated(this.#links, call, events);
  }

  get #links(): LinkContext {
    return {
      sql: this.#sql,
      ledger: this.ledger,
      sessionId: this.#sessionId,
      agent: this.#agent.name,
      start: (message, parent, trace) => this.start({ message }, parent, trace),
      abort: (reason) => this.abort(reason),
      commit: (events) => this.#commitControl(events),
    };
  }

  /**
   * The app context of code outside due work (a custom endpoint): `emit` appends at once,
   * outside any run.
   */
  appContext(): AppContext {
    return this.#appContext((event, payload) => {
      this.ledger.append([appEvent(event, payload, null)]);
    });
  }

  /** The context of a unit of due work (a trigger run, an `on` delivery) whose effects are `staged`. */
  stagedContext(staged: StagedEffects): StagedAppContext {
    return {
      ...this.#appContext((event, payload) => staged.emit(event, payload)),
      transaction: (write) => staged.transaction(write),
      query: (query, ...params) => this.#sql.exec(query, ...params),
    };
  }

  #appContext(emit: AppContext["emit"]): AppContext {
    return {
      emit,
      projection: (name) => this.projections.reader(name),
      schedule: (request) => this.#scheduleAsApp(request),
    };
  }

  /** `ctx.schedule`: the `schedule.create` command, as the trusted caller on transport `app`. */
  async #scheduleAsApp(request: ScheduleRequest): Promise<ScheduleView> {
    const outcome = await dispatchCommand("schedule.create", request, {
      runtime: this,
      sql: this.#sql,
      caller: TRUSTED_CALLER,
      transport: "app",
      clock: this.#clock,
      hooks: this.#options.commandHooks,
      env: this.#options.env,
    });
    // A hook may answer instead, or replace the rendering: then its response is the result.
    const response = outcome.response;
    if (!response) return (outcome as { result: unknown }).result as ScheduleView;
    const body = (await response.json().catch(() => null)) as {
      error?: { code?: string; message?: string };
    } | null;
    if (response.ok) return body as unknown as ScheduleView;
    throw new DurableAgentsError(
      body?.error?.code ?? "schedule_refused",
      response.status,
      body?.error?.message ?? `a command hook refused the schedule with ${response.status}`,
      false,
    );
  }

  /** Schedules application work (see defineTrigger) and re-arms the wake-up. */
  async schedule(kind: string, payload: unknown, when: When, key?: string): Promise<ScheduleView> {
    if (this.ledger.closed) {
      throw new ConflictError(
        "session_closed",
        `session ${this.#sessionId} is closed; it takes no schedules`,
      );
    }
    const view = this.schedules.schedule(kind, payload, when, key);
    await this.#wake(this.work.nextWakeAt());
    return view;
  }

  /**
   * Closes the session for good: `session.closed`, after which readers get
   * Stream-Closed at the tail and nothing more is appended. Its schedules are
   * cancelled with it. Refused while a run is active; closing twice is a no-op.
   */
  async close(reason = "closed by request"): Promise<StatusView> {
    if (this.ledger.closed) return this.status();
    const run = latestRun(this.#sql);
    if (run && ACTIVE.has(run.status)) {
      throw new ConflictError(
        "run_active",
        `session ${this.#sessionId} has run ${run.runId} ${run.status}; interrupt or abort it before closing the session`,
        { details: { runId: run.runId, status: run.status } },
      );
    }
    const orphaned =
      run?.status === "interrupted"
        ? this.#failDelegated(run.runId, {
            code: "session_closed",
            message: `the session was closed (${reason}) while run ${run.runId} was interrupted, before the call answered`,
          })
        : [];
    this.ledger.append(
      [...orphaned, { kind: "session.closed", runId: null, data: { reason } }],
      () => {
        this.work.cancelWhere({ kind: RUN_STEP_KIND, keyPrefix: "trigger:" });
      },
    );
    await this.#wake(this.work.nextWakeAt());
    return this.status();
  }

  /** Runs due work (the alarm handler), then re-arms the wake-up for what remains. */
  async alarm(): Promise<void> {
    await this.#pump.run();
    await this.#wake(this.work.nextWakeAt());
  }

  /**
   * Schedules a run's next step, for either executor: the one place that does (start, resume,
   * retry, approvals, client tool outputs, sub-agent replies and Workflow tool results all
   * come through here). Call it inside the append that moved the run (the outbox): `run.step`
   * for the alarm driver, `run.workflow` (create or wake the instance) for the Workflow executor.
   */
  #scheduleStep(runId: string, executor: RunExecutor, now: number): void {
    if (executor === "workflow")
      scheduleRuntimeWork(this.work, RUN_WORKFLOW_KIND, workflowRunKey(runId), { runId }, now, now);
    else scheduleRuntimeWork(this.work, RUN_STEP_KIND, runKey(runId), { runId }, now, now);
  }

  /** The executor a run's `run.started` recorded (read from the ledger, so a fresh object knows it). */
  #executorOf(runId: string): RunExecutor {
    const run = getRun(this.#sql, runId);
    const started = run ? this.ledger.read(run.startedSeq - 1, 1)[0] : undefined;
    return started?.kind === "run.started" && started.data.executor === "workflow"
      ? "workflow"
      : "alarm";
  }

  /**
   * The Workflow executor's calls (from the run's own instance only; see
   * workflow-run/host.ts). 404 `run_not_found` for a run this session does not have or that
   * the alarm drives: a Workflow never steps such a run.
   */
  wfDecide(runId: string): Promise<WorkflowDecision> {
    this.#workflowRun(runId);
    return this.#host.decide(runId);
  }

  async wfPerformModel(runId: string, step: number): Promise<void> {
    this.#workflowRun(runId);
    await this.#host.performModel(runId, step);
  }

  /** Performs one tool call; for an `executor: "workflow"` tool, the call to execute in the step. */
  wfPerformTool(
    runId: string,
    step: number,
    callId: string,
  ): Promise<ToolWorkflowParams | undefined> {
    this.#workflowRun(runId);
    return this.#host.performTool(runId, step, callId);
  }

  /** A workflow tool's outcome, executed in the run's own step (idempotent). */
  wfCommitTool(runId: string, step: number, callId: string, outcome: ToolWorkflowOutcome): void {
    this.#workflowRun(runId);
    this.#host.commitTool(runId, step, callId, outcome);
  }

  wfGiveUp(runId: string, error: ErrorInfo): void {
    this.#workflowRun(runId);
    this.#host.giveUp(runId, error);
  }

  /** One call of the run's Workflow instance (`WorkflowCall`), served by the method it names. */
  async wfCall(runId: string, call: WorkflowCall): Promise<WorkflowCallReply> {
    switch (call.type) {
      case "decide":
        return { decision: await this.wfDecide(runId) };
      case "model":
        await this.wfPerformModel(runId, call.step);
        return {};
      case "tool": {
        const job = await this.wfPerformTool(runId, call.step, call.callId);
        return job ? { job } : {};
      }
      case "commitTool":
        this.wfCommitTool(runId, call.step, call.callId, call.outcome);
        return {};
      case "giveUp":
        this.wfGiveUp(runId, call.error);
        return {};
    }
  }

  #workflowRun(runId: string): void {
    if (this.#executorOf(runId) !== "workflow")
      throw new NotFoundError(
        "run_not_found",
        `session ${this.#sessionId} has no run ${runId.slice(0, 64)} on the Workflow executor`,
      );
  }

  /** `tool.failed` for each call of the run still delegated: the run will never take its answer. */
  #failDelegated(runId: string, error: ErrorInfo): NewEvent[] {
    return failedCalls(runId, delegatedCalls(this.#sql, runId), error);
  }

  #activeRun(action: string, accepted: ReadonlySet<SessionStatus> = ACTIVE) {
    const run = latestRun(this.#sql);
    if (!run || !accepted.has(run.status))
      throw new NoActiveRunError(this.#sessionId, action, run?.status ?? null);
    return run;
  }
}

export function runKey(runId: string): string {
  return `run:${runId}`;
}
