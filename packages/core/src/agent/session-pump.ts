import { type AnySubscription, subscriptionHandler } from "../app-events/subscriptions.ts";
import type { Clock } from "../clock.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Logger } from "../logger.ts";
import type { DueWork } from "../triggers/due-work.ts";
import { type TriggerHandler, TriggerPump } from "../triggers/pump.ts";
import type { Schedules } from "../triggers/schedules.ts";
import { completionHookHandler } from "./completion-hook.ts";
import type { RunDriver } from "./run-driver.ts";
import { executorHandlers } from "./run-scheduler.ts";
import {
  ON_COMPLETE_KIND,
  ON_EVENT_KIND,
  RUN_STEP_KIND,
  type RuntimeHandlers,
  runtimeHandlerEntries,
  SUBAGENT_SEND_KIND,
  WORKFLOW_CHECK_KINDS,
} from "./runtime-work.ts";
import type { SessionAppContexts } from "./session-app-context.ts";
import { type LinkContext, subagentMessenger } from "./session-links.ts";
import type { SessionRuntimeOptions } from "./session-runtime-options.ts";
import type { WakeUp } from "./wake-up.ts";
import { type ToolWorkflowResult, unavailableToolWorkflowHandlers } from "./workflow-calls.ts";
import { DEFAULT_RUN_WORKFLOW_CHECK_MS, runFailure } from "./workflow-run/unavailable.ts";

/** What the handlers of a session's due work reach. */
export interface SessionPumpParts {
  readonly options: SessionRuntimeOptions;
  readonly ledger: Ledger;
  readonly work: DueWork;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly driver: RunDriver;
  readonly links: LinkContext;
  readonly apps: SessionAppContexts;
  readonly schedules: Schedules;
  readonly subscriptions: readonly AnySubscription[];
  /** Records a tool Workflow's outcome the way its report does (`receiveToolResult`). */
  readonly receiveToolResult: (result: ToolWorkflowResult) => Promise<void>;
}

/**
 * The session's due work: a handler for every kind a row can name (the runtime's own, one
 * per kind of runtime-work.ts; the app's triggers; extra kinds such as the D1 outbox), and
 * the pump that runs them. A row of a kind with no handler is kept and recorded
 * (`Schedules.recordUnknown`), never skipped.
 */
export function sessionPump(p: SessionPumpParts): TriggerPump {
  const { options, ledger, work, clock, logger } = p;
  const { sql, agent, sessionId } = options;
  const app = p.apps;
  const runtime: RuntimeHandlers = {
    ...executorHandlers({
      sql,
      ledger,
      work,
      agent: agent.name,
      sessionId,
      driver: p.driver,
      agentWorkflows: options.agentWorkflows,
      workflowRuns: options.workflowRuns,
      checkMs: options.runWorkflowCheckMs ?? DEFAULT_RUN_WORKFLOW_CHECK_MS,
      clock,
      logger,
      fail: (runId, error) => p.driver.giveUp({ runId }, runFailure(error)),
    }),
    [SUBAGENT_SEND_KIND]: subagentMessenger(p.links, clock, options.subagents),
    ...(options.toolWorkflows?.handlers({
      sql,
      work,
      port: options.workflows,
      clock,
      logger,
      checkMs: options.workflowCheckMs,
      record: p.receiveToolResult,
    }) ?? unavailableToolWorkflowHandlers({ sql, record: p.receiveToolResult })),
    [ON_COMPLETE_KIND]: completionHookHandler(options.onComplete, {
      sql,
      ledger,
      agent: agent.name,
      sessionId,
      logger,
      clock,
      faults: options.faults,
      timeoutMs: options.onCompleteTimeoutMs,
      app: (staged) => app.emitting((event, payload) => staged.emit(event, payload)),
    }),
    [ON_EVENT_KIND]: subscriptionHandler(p.subscriptions, {
      sql,
      ledger,
      agent: agent.name,
      sessionId,
      env: options.env ?? {},
      logger,
      clock,
      faults: options.faults,
      context: (staged) => app.staged(staged),
    }),
  };
  const handlers = new Map<string, TriggerHandler>([
    ...p.schedules.handlers(),
    ...(options.triggers ?? []),
    ...runtimeHandlerEntries(runtime),
  ]);
  return new TriggerPump(work, handlers, clock, logger, {
    onUnknownKind: (item) => p.schedules.recordUnknown(item),
    // A run's step may stream for minutes: the session's other due work runs meanwhile.
    concurrentKinds: new Set([RUN_STEP_KIND]),
    ...options.pump,
  });
}

/**
 * A new instance of a single-instance session (a Durable Object): any lease was held by the
 * previous one, which is gone. Work it left (claimed, or due while it was down) runs now
 * rather than at its lease's end: whoever woke this instance (a reader reconnecting, a
 * request) gets the run going at once; the wake-up stays armed as the guarantee.
 *
 * Its Workflow checks (`WORKFLOW_CHECK_KINDS`) are due now too, once per object start: the
 * restart that started this object may have cut those instances (wrangler dev's local
 * Workflows, restarted with the process, resume one only when an event arrives), and a check
 * wakes an instance that has not finished rather than waiting out its interval.
 */
export function restartLeftOverWork(p: {
  readonly work: DueWork;
  readonly wakeUp: WakeUp;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Runs the due work (`SessionRuntime.alarm`). */
  readonly alarm: () => Promise<void>;
}): void {
  p.work.releaseLeases();
  p.work.dueNow(WORKFLOW_CHECK_KINDS, p.clock.now());
  const next = p.work.nextWakeAt();
  if (next === null) return;
  const kick = async () => {
    await p.wakeUp.arm(next);
    if (next <= p.clock.now()) await p.alarm();
  };
  void kick().catch((error) =>
    p.logger.error("could not restart left-over work", { error: String(error) }),
  );
}
