/**
 * What `createAgentServer` takes (create-agent-server.ts): the agents, and how their sessions
 * read, run, index, trace and limit. Declared apart from the class it configures.
 */
import type {
  AgentDefinition,
  AnyProjection,
  AnySubscription,
  ChatOptions,
  CoalesceOptions,
  CronSchedules,
  FaultInjector,
  LiveReadOptions,
  Logger,
  PumpOptions,
  RunTracing,
  RuntimeLimits,
  TriggerDefinition,
} from "@durable-agents/core";
import type { PlatformOptions } from "./platform.ts";
import type { AgentRegistry } from "./registry.ts";

export interface AgentServerOptions extends PlatformOptions {
  /** Agent definitions, or a registry with factories. */
  readonly agents: readonly AgentDefinition[] | AgentRegistry;
  readonly logger?: Logger;
  /** Long-poll and SSE windows; see docs/limits.md for the defaults. */
  readonly live?: Partial<LiveReadOptions>;
  readonly pump?: Partial<PumpOptions>;
  readonly coalesce?: CoalesceOptions;
  /** Application trigger kinds (delay, date or cron schedules); see defineTrigger. */
  readonly triggers?: readonly TriggerDefinition[];
  /**
   * Takes cron schedules for the triggers: `cronSchedules` from `@durable-agents/core/cron`
   * (croner; a separate entry point, so a Worker without cron schedules bundles no cron
   * parser). Absent: a cron schedule is refused with 400 `cron_off`; `at` and `delayMs` work.
   */
  readonly cron?: CronSchedules;
  /**
   * Application projections (`defineProjection`): tables kept from app events in each
   * append's transaction, read with `ctx.projection(name)`; see docs/api.md#app-events.
   */
  readonly projections?: readonly AnyProjection[];
  /** `on(event, handler)` subscriptions: app code run as due work for each matching app event. */
  readonly subscriptions?: readonly AnySubscription[];
  /**
   * Redrive work a crashed instance left at once when the object starts again, and check
   * its open Workflow instances then (default true). false waits for the dead instance's
   * leases to run out and for each check's interval, as a lease-only queue would; the
   * recovery benchmark uses it as its peer.
   */
  readonly redriveOnRestart?: boolean;
  /** The binding name of this class's namespace, for forks between sessions. Default "AGENTS". */
  readonly binding?: string;
  /**
   * The Workflows binding that runs `executor: "workflow"` tools (a class made by
   * createToolWorkflow). Default "TOOL_WORKFLOW"; needed only by agents with such tools.
   */
  readonly toolWorkflow?: string;
  /**
   * How long after creating a tool's Workflow instance the session checks its status (and
   * then again while it runs), in case its report never arrives. Default 15 minutes.
   */
  readonly toolWorkflowCheckMs?: number;
  /**
   * How often the session checks a running `executor: "workflow"` run for progress (its
   * alarm): no event of the run since the last check wakes, creates or restarts the run's
   * instance. Default 30 s.
   */
  readonly agentWorkflowCheckMs?: number;
  /**
   * The Workflows binding that drives `executor: "workflow"` runs (a class made by
   * createAgentWorkflow). Default "AGENT_WORKFLOW"; needed only when a run uses that executor.
   */
  readonly agentWorkflow?: string;
  /** The AI SDK chat surface (`/chat/:agent`): how long a cut stream waits for its client before it stops the run. */
  readonly chat?: Partial<ChatOptions>;
  /**
   * Traces runs with OpenTelemetry: pass `otelTracing()` from `@durable-agents/cloudflare/otel`
   * (a separate entry point, so a Worker without it bundles neither OpenTelemetry nor the
   * run tracer), or `() => runTracing(sink)` for any other `TraceSink`. Each session object
   * calls it once with its env; undefined leaves the session untraced.
   */
  readonly tracing?: (env: Record<string, unknown>) => RunTracing | undefined;
  /**
   * How much converted conversation (UTF-16 code units of JSON) this class's idle session objects
   * keep in memory in all, per isolate, so that a session's next run does not read its history
   * again: least recently used dropped first; a running run's is never dropped. Default: the
   * isolate's budget (`DEFAULT_IDLE_PROMPT_CACHE_BYTES`, 16 MiB), shared with every class that
   * does not set this; set, this class gets a budget of its own. See docs/scale.md,
   * "Memory per session object".
   */
  readonly idlePromptCacheBytes?: number;
  /**
   * A run's limits for this class's sessions: `maxToolResultBytes` (a tool result's JSON, in
   * bytes; default 256 KiB) and `maxModelAttempts` (model calls per step; default 5). Each a
   * whole number ≥ 1, or createAgentServer throws a RangeError. See docs/limits.md, "Runs".
   */
  readonly limits?: Partial<RuntimeLimits>;
  /** Test hook: crash points for the fault-injection suite. Never set in production. */
  readonly faults?: (ctx: DurableObjectState) => FaultInjector | undefined;
}
