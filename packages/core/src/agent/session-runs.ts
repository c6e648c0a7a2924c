import type { AppContext } from "../app-events/app-context.ts";
import type { StagedEffects } from "../app-events/staged.ts";
import type { Clock } from "../clock.ts";
import type { ErrorInfo } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { RunTracer } from "../tracing/run-tracer.ts";
import type { DueWork } from "../triggers/due-work.ts";
import type { AppState } from "./app-state.ts";
import { DEFAULT_COALESCE } from "./coalescer.ts";
import type { ResolvedDomains } from "./governance.ts";
import { RunDriver } from "./run-driver.ts";
import { newRunId } from "./run-id.ts";
import { RunScheduler } from "./run-scheduler.ts";
import type { StartContext } from "./run-start.ts";
import type { RuntimeLimits, SessionRuntimeOptions } from "./session-runtime-options.ts";
import { toolWorkflowRefusal } from "./workflow-calls.ts";
import type { WorkflowRunHostPort } from "./workflow-run/executor.ts";
import { workflowsUnavailable } from "./workflow-run/unavailable.ts";

/** What drives a session's runs, on either executor. */
export interface SessionRuns {
  /** What a start is decided over (run-start.ts), but its trace. */
  readonly starts: Omit<StartContext, "trace">;
  readonly driver: RunDriver;
  /** Which due work drives a run, for either executor. */
  readonly scheduler: RunScheduler;
  /**
   * The Workflow executor's side of the session: the driver's pieces, one step per call.
   * Absent without `options.workflowRuns`: no run of this session is on Workflows.
   */
  readonly host: WorkflowRunHostPort | undefined;
  /** Why a run cannot move onto the Workflow executor here (a resume or retry's refusal). */
  readonly workflowsUnavailable: ErrorInfo | undefined;
}

/** What the run pieces reach of the session beside its options. */
export interface SessionRunParts {
  readonly ledger: Ledger;
  readonly work: DueWork;
  readonly clock: Clock;
  readonly state: AppState;
  readonly limits: RuntimeLimits;
  readonly domains: ResolvedDomains;
  readonly tracer: RunTracer | undefined;
  /** A tool call's app context, its effects staged to commit with its result. */
  readonly app: (staged: StagedEffects) => AppContext;
}

/**
 * The pieces that drive a session's runs: the start's context, the run driver, the scheduler
 * of their due work and the Workflow executor's host. What this server can do on Workflows is
 * decided here, once, from the options: a port counts only with its executor's side
 * (`workflowRuns` for runs, `toolWorkflows` for tools), so a Worker that exports neither
 * Workflow class refuses a Workflow start, a resume or retry onto one, and fails a workflow
 * tool's call at its start, each with `workflows_unavailable` naming the export.
 */
export function sessionRuns(options: SessionRuntimeOptions, p: SessionRunParts): SessionRuns {
  const { sql, agent, sessionId } = options;
  const agentWorkflows = options.workflowRuns ? options.agentWorkflows : undefined;
  const driver = new RunDriver({
    sql,
    ledger: p.ledger,
    agent,
    sessionId,
    env: options.env ?? {},
    clock: p.clock,
    coalesce: options.coalesce ?? DEFAULT_COALESCE,
    faults: options.faults,
    durable: options.durable ?? (async () => {}),
    limits: p.limits,
    idlePromptCaches: options.idlePromptCaches,
    state: p.state,
    domains: p.domains,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    tracer: p.tracer,
    app: p.app,
    workflowRefusal: toolWorkflowRefusal(options.toolWorkflows, options.workflows),
  });
  const scheduler = new RunScheduler({ sql, ledger: p.ledger, work: p.work, clock: p.clock });
  const host = options.workflowRuns?.host({
    sql,
    driver,
    agent,
    sessionId,
    maxToolResultBytes: p.limits.maxToolResultBytes,
    append: (events) => p.ledger.append(events),
    executorOf: (runId) => scheduler.executorOf(runId),
  });
  return {
    starts: {
      sql,
      sessionId,
      agent,
      agentWorkflows,
      state: p.state,
      newId: options.newId ?? newRunId,
    },
    driver,
    scheduler,
    host,
    workflowsUnavailable: workflowsUnavailable(agentWorkflows),
  };
}
