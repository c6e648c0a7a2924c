import type { AppContext, StagedAppContext } from "../app-events/app-context.ts";
import type { AppProjections } from "../app-events/app-projections.ts";
import type { StagedEffects } from "../app-events/staged.ts";
import { type Clock, systemClock } from "../clock.ts";
import { resumeInput, retryInput } from "../commands/run-commands.ts";
import { ConflictError, NotFoundError } from "../errors/http-errors.ts";
import { validate } from "../http/read-json.ts";
import type { LedgerEvent, ParentRef } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { encodeOffset } from "../ledger/offset.ts";
import { latestRun } from "../ledger/projections/runs.ts";
import { silentLogger } from "../logger.ts";
import type { SqlPort } from "../sql/port.ts";
import { DueWork } from "../triggers/due-work.ts";
import type { TriggerPump } from "../triggers/pump.ts";
import { Schedules, type ScheduleView, type When } from "../triggers/schedules.ts";
import { AppState } from "./app-state.ts";
import type { AgentDefinition } from "./define-agent.ts";
import { resolveDomains } from "./governance.ts";
import { parsedInput } from "./parsed-input.ts";
import type { ResumeCheck, ResumeRequest, RetryRequest } from "./run-control.ts";
import { DEFAULT_INTERRUPT_REASON, type RunDriver } from "./run-driver.ts";
import { RunActiveError } from "./run-errors.ts";
import type { RunScheduler } from "./run-scheduler.ts";
import { decideStart, type StartContext } from "./run-start.ts";
import { SessionAppContexts } from "./session-app-context.ts";
import { SessionControl } from "./session-control.ts";
import { sessionLedger } from "./session-ledger.ts";
import {
  cancelChild,
  forkPrefix,
  importFork,
  type LinkContext,
  receiveReply,
  settleDelegated,
  startChild,
} from "./session-links.ts";
import { restartLeftOverWork, sessionPump } from "./session-pump.ts";
import { sessionRuns } from "./session-runs.ts";
import {
  type RuntimeLimits,
  runtimeLimits,
  type SessionRuntimeOptions,
  type StartedRun,
  type StartInput,
  type StatusView,
} from "./session-runtime-options.ts";
import type { CancelChild, ChildReply, StartChild } from "./subagents.ts";
import { WakeUp } from "./wake-up.ts";
import { type ToolWorkflowResult, workflowResultEvents } from "./workflow-calls.ts";
import type { WorkflowRunHostPort } from "./workflow-run/executor.ts";
import type { WorkflowCall, WorkflowCallReply } from "./workflow-run/protocol.ts";

/**
 * One session: its ledger, its due work and its run. The Durable Object holds
 * one of these and forwards requests and alarms to it. It wires the pieces that live
 * beside it: the ledger and its projections (session-ledger.ts); what drives its runs and
 * what this server can do on Workflows (session-runs.ts); a start's decision
 * (run-start.ts); interrupt, abort, resume, retry and close (session-control.ts, over
 * run-control.ts's rules); which due work drives a run
 * (run-scheduler.ts); the handlers of all due work and their pump (session-pump.ts); the
 * Workflow executor's calls (workflow-run/host.ts); forks and sub-agents
 * (session-links.ts); app code's contexts (session-app-context.ts); the wake-up
 * (wake-up.ts).
 */
export class SessionRuntime {
  readonly ledger: Ledger;
  readonly work: DueWork;
  /** The application state: GET/PUT .../state, tools' `ctx.state`, restored with checkpoints. */
  readonly state: AppState;
  readonly #sql: SqlPort;
  readonly #agent: AgentDefinition;
  readonly #sessionId: string;
  readonly #clock: Clock;
  /** What a start is decided over (run-start.ts), but its trace. */
  readonly #starts: Omit<StartContext, "trace">;
  readonly #wakeUp: WakeUp;
  readonly #driver: RunDriver;
  /** Which due work drives a run, for either executor. */
  readonly #runs: RunScheduler;
  /** The Workflow executor's side of the session (session-runs.ts); absent without it. */
  readonly #host: WorkflowRunHostPort | undefined;
  readonly #pump: TriggerPump;
  /** Interrupt, abort, resume, retry and close, as the session commits them. */
  readonly #control: SessionControl;
  readonly #limits: RuntimeLimits;
  readonly #tracing: SessionRuntimeOptions["tracing"];
  readonly #apps: SessionAppContexts;
  readonly schedules: Schedules;
  /** The application projections: status, rebuild, readers. */
  readonly projections: AppProjections;

  constructor(options: SessionRuntimeOptions) {
    // First, before anything is written: AgentConfigError (500) when a tool names an
    // undeclared domain or a domain has no allow-list in this environment.
    const domains = resolveDomains(options.agent, options.env ?? {});
    this.#sql = options.sql;
    this.#agent = options.agent;
    this.#sessionId = options.sessionId;
    this.#clock = options.clock ?? systemClock;
    this.#wakeUp = new WakeUp(options.wake);
    const logger = options.logger ?? silentLogger;
    this.#limits = runtimeLimits(options.limits);
    const { ledger, projections, subscriptions, tracer } = sessionLedger(options, this.#clock);
    this.ledger = ledger;
    this.projections = projections;
    this.work = new DueWork(options.sql);
    this.#tracing = options.tracing;
    this.#wakeUp.follow(this.ledger, this.work, logger);
    this.#apps = new SessionAppContexts({
      runtime: this,
      sql: options.sql,
      ledger: this.ledger,
      projections: this.projections,
      clock: this.#clock,
      hooks: options.commandHooks,
      env: options.env,
    });
    this.state = new AppState({
      sql: options.sql,
      ledger: this.ledger,
      agent: options.agent,
      sessionId: options.sessionId,
    });
    const runs = sessionRuns(options, {
      ledger: this.ledger,
      work: this.work,
      clock: this.#clock,
      state: this.state,
      limits: this.#limits,
      domains,
      tracer,
      app: (staged) => this.#apps.emitting((event, payload) => staged.emit(event, payload)),
    });
    this.#starts = runs.starts;
    this.#driver = runs.driver;
    this.#runs = runs.scheduler;
    this.#host = runs.host;
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
    this.#control = new SessionControl({
      sql: options.sql,
      ledger: this.ledger,
      work: this.work,
      sessionId: options.sessionId,
      agent: options.agent,
      state: this.state,
      clock: this.#clock,
      driver: this.#driver,
      runs: this.#runs,
      wakeUp: this.#wakeUp,
      workflowsUnavailable: runs.workflowsUnavailable,
    });
    this.#pump = sessionPump({
      options,
      ledger: this.ledger,
      work: this.work,
      clock: this.#clock,
      logger,
      driver: this.#driver,
      links: this.#links,
      apps: this.#apps,
      schedules: this.schedules,
      subscriptions,
      receiveToolResult: (result) => this.receiveToolResult(result),
    });
    if (options.singleInstance) {
      const [work, wakeUp, clock] = [this.work, this.#wakeUp, this.#clock];
      restartLeftOverWork({ work, wakeUp, clock, logger, alarm: () => this.alarm() });
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
      interruptRequested: run?.status === "running" && run.interruptRequested,
      closed: this.ledger.closed,
      exists: this.ledger.tail > 0,
    };
  }

  /**
   * Starts a run with a user message (text, then `files`) and, optionally, this run's
   * `modelOptions` over the agent's (both recorded in `run.started`). Synchronous, so two concurrent starts cannot both pass the check.
   * `replaces`: the latest run, answered again with this one (a chat's regenerate); its
   * messages leave the conversation. 409 `not_latest_run` when it is not the latest run. A
   * replaced run still running or waiting is aborted in the same append (run-start.ts), so a
   * refused start leaves it going; `ends` does the same for the active run it names, with its
   * own `reason`, without hiding its messages (a chat message sent after a stop).
   * `state` seeds the application state (a `state.updated` just before `run.started`, in
   * the same transaction: 400 when it does not fit the stateSchema, and nothing is written);
   * `messages` go before `message`; `metadata` is recorded in `run.started`.
   */
  async start(
    input: StartInput,
    parent?: ParentRef,
    parentTrace?: { readonly traceId: string; readonly spanId: string },
  ): Promise<StartedRun> {
    const runs = this.#tracing?.runs;
    const trace = runs ? () => runs.newTrace(parentTrace) : undefined;
    const decision = decideStart({ ...this.#starts, trace }, input, parent);
    const { runId, executor, events, aborts } = decision;
    const offset = encodeOffset(this.ledger.tail);
    const now = this.#clock.now();
    const abortedExecutor = aborts !== undefined ? this.#runs.executorOf(aborts) : undefined;
    this.ledger.append(events, () => {
      if (aborts !== undefined && abortedExecutor) this.#runs.aborted(aborts, abortedExecutor);
      this.#runs.schedule(runId, executor, now);
    });
    if (aborts !== undefined) this.#driver.abortInFlight(aborts);
    await this.#wakeUp.arm(now);
    return { runId, status: "running", offset };
  }

  /**
   * Soft stop, a pause: durable request; the model call in flight is aborted and its partial
   * answer kept. A waiting run is interrupted at once. Calls it handed to sub-agents fail in the
   * same append (code `interrupted`) and the sub-agents' runs are cancelled (subagent-replies.ts):
   * the model sees the failures when resumed and may call again. Calls handed to a Workflow
   * instance, which nothing stops, keep their results: recorded while the run is interrupted,
   * taken by the resumed run. 409 `no_active_run` without a running or waiting run.
   */
  async interrupt(reason = DEFAULT_INTERRUPT_REASON): Promise<StatusView> {
    await this.#control.interrupt(reason);
    return this.status();
  }

  /**
   * Hard stop: terminal at once, for a running, waiting or interrupted run. Tools in
   * flight are signalled and their late results dropped; calls still delegated (to a
   * sub-agent or a Workflow) fail with the abort's reason, and sub-agents working on
   * them are cancelled (subagent-replies.ts).
   */
  async abort(reason = "aborted by request"): Promise<StatusView> {
    await this.#control.abort(reason);
    return this.status();
  }

  /** Moves a waiting or interrupted run again: continue, with a message, from a checkpoint, or with decisions. */
  async resume(request: ResumeRequest): Promise<StatusView> {
    return this[parsedInput].resume(checkResume(request));
  }

  /**
   * Whether `resume(request)` would be accepted now, and if not why: the resume's own
   * decision, run without committing. `reason` and `code` are those of the
   * error the resume would throw (409 `run_running`, `run_not_resumable`, `run_failed`,
   * `session_closed`, 404 `unknown_call`...). Command hooks are not asked: an app's
   * `beforeResume` may still refuse. Input the resume refuses throws its 400 `invalid_request`,
   * as `resume` does.
   */
  canResume(request: ResumeRequest = {}): ResumeCheck {
    return this[parsedInput].canResume(checkResume(request));
  }

  /** Runs a failed run again from a checkpoint (default: its latest) or from its start. */
  async retry(request: RetryRequest): Promise<StatusView> {
    return this[parsedInput].retry(validate(retryInput, request, "the retry"));
  }

  /**
   * Resume, retry and canResume of input their command's schema parsed already: the door's
   * entries (run-commands.ts, store-call.ts), so a request is parsed once. The methods above
   * parse theirs, for Worker code that calls them directly.
   */
  readonly [parsedInput] = {
    resume: async (request: ResumeRequest): Promise<StatusView> => {
      await this.#control.resume(request);
      return this.status();
    },
    retry: async (request: RetryRequest): Promise<StatusView> => {
      await this.#control.retry(request);
      return this.status();
    },
    canResume: (request: ResumeRequest): ResumeCheck => this.#control.canResume(request),
  };

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
      commit: (events) => this.#control.commit(events),
    };
  }

  /**
   * The app context of code outside due work (a custom endpoint): `emit` appends at once,
   * outside any run.
   */
  appContext(): AppContext {
    return this.#apps.direct();
  }

  /** The context of a unit of due work (a trigger run, an `on` delivery) whose effects are `staged`. */
  stagedContext(staged: StagedEffects): StagedAppContext {
    return this.#apps.staged(staged);
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
    await this.#wakeUp.arm(this.work.nextWakeAt());
    return view;
  }

  /**
   * Closes the session for good: `session.closed`, after which readers get
   * Stream-Closed at the tail and nothing more is appended. Its schedules are
   * cancelled with it. Refused while a run is active; closing twice is a no-op.
   */
  async close(reason = "closed by request"): Promise<StatusView> {
    await this.#control.close(reason);
    return this.status();
  }

  /** Runs due work (the alarm handler), then re-arms the wake-up for what remains. */
  async alarm(): Promise<void> {
    await this.#pump.run();
    await this.#wakeUp.arm(this.work.nextWakeAt());
  }

  /**
   * One call of a run's Workflow instance (`WorkflowCall`, workflow-run/protocol.ts), served
   * by workflow-run/host.ts. Rejects with 404 `run_not_found` for a run this session does not
   * have or that the alarm drives: a Workflow never steps such a run.
   */
  async wfCall(runId: string, call: WorkflowCall): Promise<WorkflowCallReply> {
    if (this.#host) return this.#host.call(runId, call);
    throw new NotFoundError(
      "run_not_found",
      `session ${this.#sessionId} has no run ${runId.slice(0, 64)} on the Workflow executor (this server has none)`,
    );
  }
}

/**
 * A resume's input, checked with the resume command's own schema (run-commands.ts): its rules
 * hold for Worker code calling `resume` directly as for `POST .../resume`. 400 `invalid_request`.
 */
function checkResume(request: ResumeRequest): ResumeRequest {
  return validate(resumeInput, request, "the resume") as ResumeRequest;
}
