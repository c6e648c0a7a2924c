/**
 * The options and the read views of a `SessionRuntime` (session-runtime.ts), and the run
 * statuses that hold a session.
 */
import type { AnyProjection } from "../app-events/define-projection.ts";
import type { AnySubscription } from "../app-events/subscriptions.ts";
import type { Clock } from "../clock.ts";
import type { SessionHooks } from "../http/hooks.ts";
import type { JsonValue } from "../ledger/events.ts";
import type { Projection } from "../ledger/projection.ts";
import type { RunStatus } from "../ledger/projections/runs.ts";
import type { Logger } from "../logger.ts";
import type { SqlPort } from "../sql/port.ts";
import type { RunTracing } from "../tracing/run-tracing.ts";
import type { CronSchedules } from "../triggers/cron-port.ts";
import type { TriggerDefinition } from "../triggers/define-trigger.ts";
import type { PumpOptions, TriggerHandler } from "../triggers/pump.ts";
import type { CoalesceOptions } from "./coalescer.ts";
import type { CompletionHook } from "./completion-hook.ts";
import type { AgentDefinition } from "./define-agent.ts";
import type { FaultInjector } from "./faults.ts";
import type { IdlePromptCaches } from "./idle-prompt-caches.ts";
import type { ModelOptions } from "./model-options.ts";
import type { PriorMessageInput } from "./prior-messages.ts";
import type { SubagentPort } from "./subagents.ts";
import type { UserFileInput } from "./user-files.ts";
import type { ToolWorkflowExecutor, ToolWorkflowPort } from "./workflow-calls.ts";
import type { WorkflowRunExecutor } from "./workflow-run/executor.ts";
import type { AgentWorkflowPort } from "./workflow-run/protocol.ts";

export interface SessionRuntimeOptions {
  readonly sql: SqlPort;
  readonly agent: AgentDefinition;
  readonly sessionId: string;
  /** Arms the one wake-up (the DO alarm) at `at`, or clears it when null. */
  readonly wake: (at: number | null) => void | Promise<void>;
  readonly env?: Record<string, unknown>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** The id of each new run; default `newRunId` (run-id.ts: `run_` + time + random hex). */
  readonly newId?: () => string;
  readonly pump?: Partial<PumpOptions>;
  readonly coalesce?: CoalesceOptions;
  readonly faults?: FaultInjector;
  /**
   * Resolves when every write so far is durable (DO: `storage.sync()`). Awaited
   * before a tool with a side effect runs and after an irreversible tool's result
   * (agent/durability.ts), so that no side effect can happen before the ledger says
   * it started. In-process SQLite needs none.
   */
  readonly durable?: () => Promise<void>;
  readonly limits?: Partial<RuntimeLimits>;
  /**
   * Where the session's prompt cache (the converted conversation) is kept between runs: a
   * budget shared with other sessions, least recently used dropped first
   * (agent/idle-prompt-caches.ts). Default: the isolate's, 16 MiB
   * (`DEFAULT_IDLE_PROMPT_CACHE_BYTES`) shared by every runtime not given its own.
   */
  readonly idlePromptCaches?: IdlePromptCaches;
  /** Extra projections, kept in the same transaction as each append (e.g. an outbox). */
  readonly projections?: readonly Projection[];
  /** Extra trigger kinds for the due-work pump (e.g. outbox delivery). */
  readonly triggers?: ReadonlyMap<string, TriggerHandler>;
  /**
   * Computes cron times for cron schedules (`cronSchedules` from `@durable-agents/core/cron`).
   * Absent: cron schedules are refused (400 `cron_off`).
   */
  readonly cron?: CronSchedules;
  /** Application trigger kinds, scheduled with `schedule()` (delay, date or cron). */
  readonly appTriggers?: readonly TriggerDefinition[];
  /** Application projections (`defineProjection`), kept with each append of their events. */
  readonly appProjections?: readonly AnyProjection[];
  /** `on(event, handler)` subscriptions: due work written with each matching event. */
  readonly subscriptions?: readonly AnySubscription[];
  /** The command hooks app code's `ctx.schedule` runs through, as `POST .../schedules` does. */
  readonly commandHooks?: SessionHooks;
  /**
   * Runs at least once per completed run, through due work written with its
   * `run.completed` (see completion-hook.ts). Without it, no such work is written.
   */
  readonly onComplete?: CompletionHook;
  /** How long one `onComplete` delivery may take before it is retried. Default 30 s. */
  readonly onCompleteTimeoutMs?: number;
  /** The way to other sessions, for sub-agents. Without it, delegated calls fail clearly. */
  readonly subagents?: SubagentPort;
  /** Creates Workflow instances for `executor: "workflow"` tools. Without it, such calls fail clearly. */
  readonly workflows?: ToolWorkflowPort;
  /**
   * The executor of `executor: "workflow"` tools (`toolWorkflowExecutor`, workflow-check.ts):
   * what creates and checks their instances. `SessionRuntime` passes it by default;
   * `SessionRuntimeBase` takes it only from here (the session object gets it when its Worker
   * exports `createToolWorkflow`), and without it such a call fails with
   * `workflows_unavailable` whatever `workflows` is.
   */
  readonly toolWorkflows?: ToolWorkflowExecutor;
  /** Creates and wakes the Workflow instances of `executor: "workflow"` runs. Without it, such runs fail clearly. */
  readonly agentWorkflows?: AgentWorkflowPort;
  /**
   * The Workflow executor's side of the session (`workflowRunExecutor`,
   * workflow-run/executor.ts): what serves a run's instance and creates, wakes, checks and
   * terminates it. `SessionRuntime` passes it by default; `SessionRuntimeBase` takes it only
   * from here (the session object gets it when its Worker exports `createAgentWorkflow`), and
   * without it a run on the Workflow executor is refused or fails with `workflows_unavailable`
   * whatever `agentWorkflows` is, so a Worker that never drives one bundles none of it.
   */
  readonly workflowRuns?: WorkflowRunExecutor;
  /**
   * How long after creating a tool's Workflow instance the session asks for its status,
   * and then again while it runs (workflow-check.ts). Default 15 minutes.
   */
  readonly workflowCheckMs?: number;
  /**
   * How often a running `executor: "workflow"` run is checked for progress: a check that finds
   * no event of the run since the last one wakes (or creates, or restarts) its instance
   * (workflow-run/instances.ts). Default 30 s.
   */
  readonly runWorkflowCheckMs?: number;
  /**
   * True when at most one instance of this session can run at a time (a Durable
   * Object): a new instance then redrives claimed work at once instead of
   * waiting for the dead instance's leases to run out.
   */
  readonly singleInstance?: boolean;
  /**
   * Records spans of runs, steps, model calls and tool calls (tracing/run-tracer.ts) into
   * `runs`, made by `runTracing(sink)`. Without it, nothing is traced, runs carry no trace ids
   * and the tracer is not bundled.
   */
  readonly tracing?: {
    readonly runs: RunTracing;
    /** Keeps the isolate alive while spans are flushed (a Durable Object's `ctx.waitUntil`). */
    readonly waitUntil?: (promise: Promise<unknown>) => void;
  };
  /**
   * The fetch behind tools' `ctx.fetch` (which adds the domain allow-lists). Default: the
   * global `fetch`, looked up at each call.
   */
  readonly fetch?: typeof fetch;
}

/** A run's limits (docs/limits.md, "Runs"); `createAgentServer({ limits })` sets them per class. */
export interface RuntimeLimits {
  /** Model calls per step before the run fails with the model's last error. Default 5. */
  readonly maxModelAttempts: number;
  /** A tool's result, as JSON, in bytes; over it the call ends as `tool.failed`. Default 256 KiB. */
  readonly maxToolResultBytes: number;
}

export const DEFAULT_RUNTIME_LIMITS: RuntimeLimits = {
  maxModelAttempts: 5,
  maxToolResultBytes: 256 * 1024,
};

/**
 * The defaults with `limits` over them; a limit given as `undefined` keeps its default. Throws
 * RangeError for a value that is not a whole number ≥ 1, naming it (`createAgentServer` calls it
 * when the class is made).
 */
export function runtimeLimits(limits: Partial<RuntimeLimits> = {}): RuntimeLimits {
  const given = Object.entries(limits).filter(([, value]) => value !== undefined);
  const resolved: RuntimeLimits = { ...DEFAULT_RUNTIME_LIMITS, ...Object.fromEntries(given) };
  for (const [name, value] of Object.entries(resolved))
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`limits.${name} must be a whole number ≥ 1, got ${value}`);
  return resolved;
}

export type SessionStatus = "idle" | RunStatus;

/** Statuses of a run that holds the session: no other run can start, and the session cannot close. */
export const ACTIVE: ReadonlySet<SessionStatus> = new Set(["running", "waiting"]);
/** An interrupted run can be resumed, so it can also be aborted (made terminal). */
export const ABORTABLE: ReadonlySet<SessionStatus> = new Set(["running", "waiting", "interrupted"]);

export interface StatusView {
  readonly session: string;
  readonly agent: string;
  readonly status: SessionStatus;
  readonly runId: string | null;
  readonly step: number;
  readonly offset: string;
  /**
   * The run is `running` with an interrupt requested (`run.interrupt_requested`): it ends
   * `interrupted` at its next step boundary. False in every other status.
   */
  readonly interruptRequested: boolean;
  /** The session takes no more runs or events (POST .../close). */
  readonly closed: boolean;
  /**
   * The ledger has an event: something was started, forked or written. False (with `status:
   * "idle"`) tells a mistyped id apart from an idle session; `POST runs` still starts one there.
   */
  readonly exists: boolean;
}

/** What starts a run (`POST .../runs`, checked by the start command's schema). */
export interface StartInput {
  /** The user message's text. */
  readonly message: string;
  /** Images and files after the text, as AI SDK `ImagePart`/`FilePart`s (agent/user-files.ts). */
  readonly files?: readonly UserFileInput[];
  /** The latest run, answered again by this one (a chat's regenerate). */
  readonly replaces?: string;
  /** The active run, aborted in this start's append if it still runs or waits (`reason`: the abort's). */
  readonly ends?: { readonly run: string; readonly reason?: string };
  /** This run's model settings, over the agent's. */
  readonly modelOptions?: ModelOptions;
  /** The application state to start from: a `state.updated` just before `run.started`. */
  readonly state?: unknown;
  /** Earlier conversation placed before the message. */
  readonly messages?: readonly PriorMessageInput[];
  /** What drives the run: default the agent's `executor`, else "alarm". */
  readonly executor?: "alarm" | "workflow";
  /** The app's own data about the run, recorded in `run.started`. */
  readonly metadata?: Readonly<Record<string, JsonValue>>;
}

export interface StartedRun {
  readonly runId: string;
  readonly status: "running";
  /** The ledger offset just before the run's first event: read events from here. */
  readonly offset: string;
}
