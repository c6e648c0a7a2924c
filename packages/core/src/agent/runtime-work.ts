import type { SqlPort } from "../sql/port.ts";
import { DueWork } from "../triggers/due-work.ts";
import type { TriggerHandler } from "../triggers/pump.ts";
import type { SubagentMessage } from "./subagents.ts";
import type { CreatePayload } from "./workflow-calls.ts";

/**
 * The runtime's own due-work kinds and the payload each one's rows hold,
 * declared once. Rows are written only through `scheduleRuntimeWork` and run by
 * the handlers in `RuntimeHandlers`, so a payload's type is checked where it is
 * written and trusted where it is read (the pump hands over the stored JSON).
 */
export const RUN_STEP_KIND = "run.step";
/** A Workflow-executor run moved: create its instance, or wake it (workflow-run/instances.ts). */
export const RUN_WORKFLOW_KIND = "run.workflow";
/** A Workflow-executor run was aborted: terminate its instance. */
export const RUN_WORKFLOW_TERMINATE_KIND = "run.workflow.terminate";
export const SUBAGENT_SEND_KIND = "subagent.send";
export const WORKFLOW_CREATE_KIND = "workflow.create";
export const WORKFLOW_CHECK_KIND = "workflow.check";
/**
 * The rows that check a Workflow instance (a tool call's, a run's): a new session object makes
 * them due at once (session-pump.ts, `restartLeftOverWork`).
 */
export const WORKFLOW_CHECK_KINDS: readonly string[] = [WORKFLOW_CHECK_KIND, RUN_WORKFLOW_KIND];
export const ON_COMPLETE_KIND = "hook.on_complete";
/** An `on(event, handler)` delivery (app-events/subscriptions.ts). */
export const ON_EVENT_KIND = "hook.on_event";

/** A run's next action is due (the step machine decides which). */
export interface RunPayload {
  readonly runId: string;
}

/**
 * A Workflow-executor run's `run.workflow` row: absent `seen`, the run just moved (create or
 * wake the instance now); `seen`, a check of a running run, due `checkMs` after the last one,
 * with the seq of the run's latest event at that time (no newer event: wake the instance).
 */
export interface RunWorkflowPayload extends RunPayload {
  readonly seen?: number;
}

/** Which subscription answers which ledger event. */
export interface OnEventPayload {
  readonly subscription: string;
  readonly seq: number;
}

/** A run ended (`seq`: its terminal event; absent in rows written before ends other than completion). */
export interface RunEndPayload {
  readonly runId: string;
  readonly seq?: number;
}

export interface RuntimeWorkPayloads {
  readonly [RUN_STEP_KIND]: RunPayload;
  readonly [RUN_WORKFLOW_KIND]: RunWorkflowPayload;
  readonly [RUN_WORKFLOW_TERMINATE_KIND]: RunPayload;
  readonly [SUBAGENT_SEND_KIND]: SubagentMessage;
  readonly [WORKFLOW_CREATE_KIND]: CreatePayload;
  readonly [WORKFLOW_CHECK_KIND]: CreatePayload;
  readonly [ON_COMPLETE_KIND]: RunEndPayload;
  readonly [ON_EVENT_KIND]: OnEventPayload;
}

export type RuntimeWorkKind = keyof RuntimeWorkPayloads;

/** One handler per runtime kind, each typed by its payload. */
export type RuntimeHandlers = {
  readonly [K in RuntimeWorkKind]: TriggerHandler<RuntimeWorkPayloads[K]>;
};

const works = new WeakMap<SqlPort, DueWork>();

/** The due-work table of a session's database (one `DueWork` per port, created on first use). */
export function dueWorkOf(sql: SqlPort): DueWork {
  let work = works.get(sql);
  if (!work) {
    work = new DueWork(sql);
    works.set(sql, work);
  }
  return work;
}

/** Creates or moves the row `key` of a runtime kind; call it inside the append it belongs to. */
export function scheduleRuntimeWork<K extends RuntimeWorkKind>(
  target: SqlPort | DueWork,
  kind: K,
  key: string,
  payload: RuntimeWorkPayloads[K],
  dueAt: number,
  now: number,
): void {
  const work = target instanceof DueWork ? target : dueWorkOf(target);
  work.schedule(kind, key, payload, dueAt, now);
}

/** The runtime's handlers as the pump's registry (kind → handler). */
export function runtimeHandlerEntries(handlers: RuntimeHandlers): [string, TriggerHandler][] {
  return Object.entries(handlers) as [string, TriggerHandler][];
}
