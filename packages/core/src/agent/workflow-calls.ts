import type { Clock } from "../clock.ts";
import type { ErrorInfo, JsonValue, NewEvent, ParentRef } from "../ledger/events.ts";
import { getRun } from "../ledger/projections/runs.ts";
import { stepToolCalls, type ToolCallRecord } from "../ledger/projections/tool-calls.ts";
import type { Logger } from "../logger.ts";
import type { SqlPort } from "../sql/port.ts";
import type { DueItem, DueWork } from "../triggers/due-work.ts";
import type { TriggerHandler, TriggerOutcome } from "../triggers/pump.ts";
import { utf8Length } from "../utf8.ts";
import type { AnyTool } from "./define-tool.ts";
import {
  type RuntimeHandlers,
  scheduleRuntimeWork,
  WORKFLOW_CHECK_KIND,
  WORKFLOW_CREATE_KIND,
} from "./runtime-work.ts";

/**
 * Tool calls executed by a Workflow instance (`executor: "workflow"`).
 *
 * Invariants:
 * 1. A workflow call's `workflow.started` (status `delegated`) and the due-work
 *    row that creates its instance commit with its `tool.started`, in one transaction; on a
 *    server that cannot create its instance (`toolWorkflowRefusal`) neither is written, and
 *    its `tool.failed` (`workflows_unavailable`) commits with its `tool.started` instead.
 * 2. The instance id is derived from the call's identity (agent, session, run, step
 *    and call id), so a redriven create names the same instance and creating an
 *    existing id counts as success, while a retried or resumed run (a new step; call
 *    ids repeat across steps and runs) or a fork (a new session) names a new one.
 * 3. Receipt is idempotent: a result is recorded only while the call is still
 *    `delegated` and its run is not finished; anything else is acknowledged and ignored.
 * 4. No call waits forever: a create that gives up fails the call, and a created
 *    instance is checked (workflow-check.ts) until the call has its result.
 * 5. Nothing is created for a call that no longer waits (its run was aborted, failed or
 *    completed); an interrupted run's calls are still created, since it can be resumed.
 */
export { WORKFLOW_CHECK_KIND, WORKFLOW_CREATE_KIND };

/** What a tool's Workflow instance gets: the call (and the session to answer), the tool and its input. */
export interface ToolWorkflowParams extends ParentRef {
  readonly tool: string;
  readonly args: JsonValue;
  readonly idempotencyKey: string;
}

export type ToolWorkflowOutcome =
  | { readonly type: "completed"; readonly result: JsonValue }
  | { readonly type: "failed"; readonly error: ErrorInfo };

/** A Workflow instance's answer to the session that created it. */
export interface ToolWorkflowResult {
  readonly call: ToolWorkflowParams;
  readonly outcome: ToolWorkflowOutcome;
}

/** An instance's status, as the Workflows binding's `get(id).status()` gives it. */
export interface ToolWorkflowStatus {
  /** `queued`, `running`, `waiting`, `paused`, `complete`, `errored`, `terminated`, ... */
  readonly status: string;
  /** The instance's return value: its `ToolWorkflowOutcome`, once `complete`. */
  readonly output?: unknown;
  readonly error?: { readonly message: string };
}

/** Creates Workflow instances. Resolves to a refusal for permanent errors; throws for transient ones. */
export interface ToolWorkflowPort {
  /**
   * Set when this port cannot create instances at all (the binding is missing): why, and what
   * to add. A call is then failed at its start with it, and no `workflow.started` is written.
   */
  readonly unavailable?: ErrorInfo;
  /**
   * Creates the instance `instanceId` or, when it exists and has not finished (a redrive after
   * a crash), wakes it: a success either way. A finished instance is left as it is.
   */
  create(instanceId: string, params: ToolWorkflowParams): Promise<ErrorInfo | undefined>;
  /**
   * Wakes the instance `instanceId`, which exists and had not finished when the session's
   * check read its status (workflow-check.ts invariant 3): sends it the `wake` event, never
   * creates or restarts it (an event does not restart a finished instance). A refusal as
   * `create`'s; throws for transient errors.
   */
  wake(instanceId: string): Promise<ErrorInfo | undefined>;
  /** The status of an instance it created. Throws when the status cannot be read. */
  status(instanceId: string): Promise<ToolWorkflowStatus>;
}

/** What the create and check handlers share with their session. */
export interface WorkflowCallContext {
  readonly sql: SqlPort;
  readonly work: DueWork;
  readonly port: ToolWorkflowPort | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long after the create the first status check runs, and between checks. */
  readonly checkMs: number;
  /** Records an outcome the way a report does (`receiveToolResult`). */
  readonly record: (result: ToolWorkflowResult) => Promise<void>;
}

export interface CreatePayload {
  readonly instanceId: string;
  readonly params: ToolWorkflowParams;
}

export function isWorkflowTool(tool: AnyTool | undefined): boolean {
  return tool?.executor === "workflow";
}

/** `tool-` and 40 hex digits of SHA-256: within Workflows' id limits, whatever the session id. */
export async function workflowInstanceId(
  agent: string,
  session: string,
  runId: string,
  step: number,
  callId: string,
): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify([agent, session, runId, step, callId]));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `tool-${hex.slice(0, 40)}`;
}

/** The `workflow.started` event of a call and the payload of the row that creates its instance. */
export async function workflowLaunch(
  agent: string,
  session: string,
  call: ToolCallRecord,
  idempotencyKey: string,
): Promise<{ event: NewEvent<"workflow.started">; payload: CreatePayload }> {
  const instanceId = await workflowInstanceId(agent, session, call.runId, call.step, call.callId);
  const params: ToolWorkflowParams = {
    agent,
    session,
    runId: call.runId,
    step: call.step,
    callId: call.callId,
    tool: call.name,
    args: call.args,
    idempotencyKey,
  };
  return {
    event: {
      kind: "workflow.started",
      runId: call.runId,
      data: { step: call.step, callId: call.callId, name: call.name, instanceId },
    },
    payload: { instanceId, params },
  };
}

/** Writes the create row; call it inside the append that records `workflow.started`. */
export function createLater(sql: SqlPort, payload: CreatePayload, now: number): void {
  scheduleRuntimeWork(
    sql,
    WORKFLOW_CREATE_KIND,
    `workflow:${payload.instanceId}`,
    payload,
    now,
    now,
  );
}

/**
 * The executor of `executor: "workflow"` tools (workflow-check.ts: the `workflow.create` and
 * `workflow.check` handlers), as a value the runtime takes (`SessionRuntimeOptions.toolWorkflows`)
 * rather than imports: `createToolWorkflow` installs it for its Worker's session objects, and
 * core's `SessionRuntime` passes it by default. Without it such a call fails with
 * `workflows_unavailable` (`unavailableToolWorkflowHandlers`), so a Worker that runs no tool
 * on Workflows bundles none of it.
 */
export interface ToolWorkflowExecutor {
  handlers(
    context: Omit<WorkflowCallContext, "checkMs"> & { readonly checkMs: number | undefined },
  ): Pick<RuntimeHandlers, typeof WORKFLOW_CREATE_KIND | typeof WORKFLOW_CHECK_KIND>;
}

/** Why a call of `params.tool` cannot run on Workflows here (no binding, or no executor). */
export function toolWorkflowsUnavailable(params: Pick<ToolWorkflowParams, "tool">): ErrorInfo {
  return {
    code: "workflows_unavailable",
    message: `the ${params.tool} tool runs on Workflows, but this server has no Workflows binding or no tool Workflow executor; export createToolWorkflow({ agents }) from this Worker (that export brings the executor), bind it under "workflows" in wrangler.jsonc (binding TOOL_WORKFLOW) or set createAgentServer({ toolWorkflow })`,
  };
}

/**
 * Why this server can create no instance for an `executor: "workflow"` call of `tool` (no tool
 * Workflow executor, no port, or a port whose binding is missing), or undefined when it can.
 * Asked before a call's `workflow.started` is written (tool-step.ts): a call refused here fails
 * at its start, so the ledger never names an instance that was never created.
 */
export type ToolWorkflowRefusal = (tool: string) => ErrorInfo | undefined;

export function toolWorkflowRefusal(
  executor: ToolWorkflowExecutor | undefined,
  port: ToolWorkflowPort | undefined,
): ToolWorkflowRefusal {
  if (!executor || !port) return (tool) => toolWorkflowsUnavailable({ tool });
  const why = port.unavailable;
  return () => why;
}

/**
 * The `workflow.create` and `workflow.check` handlers of a server without the tool Workflow
 * executor, for rows a deploy with it left: a call still waiting fails with
 * `workflows_unavailable` (invariant 4: no call waits forever), recorded as a report is.
 */
export function unavailableToolWorkflowHandlers(c: {
  readonly sql: SqlPort;
  readonly record: (result: ToolWorkflowResult) => Promise<void>;
}): Pick<RuntimeHandlers, typeof WORKFLOW_CREATE_KIND | typeof WORKFLOW_CHECK_KIND> {
  const fail: TriggerHandler<CreatePayload> = {
    async run(payload) {
      const row = pendingRow(c.sql, payload);
      if (row) {
        const error = toolWorkflowsUnavailable(row.params);
        await c.record({ call: row.params, outcome: { type: "failed", error } });
      }
      return { type: "done" };
    },
    giveUp: () => undefined,
  };
  return { [WORKFLOW_CREATE_KIND]: fail, [WORKFLOW_CHECK_KIND]: fail };
}

/** Delivers `workflow.create` rows: at least once, then schedules the instance's status check. */
export class WorkflowLauncher implements TriggerHandler<CreatePayload> {
  readonly #c: WorkflowCallContext;

  constructor(context: WorkflowCallContext) {
    this.#c = context;
  }

  async run(payload: CreatePayload): Promise<TriggerOutcome> {
    const row = pendingRow(this.#c.sql, payload);
    if (!row) return { type: "done" };
    const { instanceId, params } = row;
    const { port, work, clock } = this.#c;
    const refused = port ? await port.create(instanceId, params) : toolWorkflowsUnavailable(params);
    if (refused) {
      await this.#c.record({ call: params, outcome: { type: "failed", error: refused } });
    } else {
      const now = clock.now();
      scheduleRuntimeWork(
        work,
        WORKFLOW_CHECK_KIND,
        checkKey(instanceId),
        payload,
        now + this.#c.checkMs,
        now,
      );
    }
    return { type: "done" };
  }

  /** The pump's retries are spent: fail the call (the model sees why) rather than wait forever. */
  giveUp({ instanceId, params }: CreatePayload, error: unknown, item: DueItem): undefined {
    const cause = error instanceof Error ? error.message : String(error);
    const message = `could not create the Workflow instance ${instanceId} for the ${params.tool} tool after ${item.attempts} attempts (${cause}); check that the Workflows binding is a Workflow whose class_name is your createToolWorkflow export, and that the tool's input fits in a Workflow instance's params`;
    this.#c.logger.error("a tool's Workflow instance could not be created; the call fails", {
      instanceId,
      tool: params.tool,
      runId: params.runId,
      callId: params.callId,
      error: cause,
    });
    const outcome = { type: "failed", error: { code: "workflow_create_failed", message } } as const;
    // Appended before record's first await, so the failure is recorded when giveUp returns.
    void this.#c
      .record({ call: params, outcome })
      .catch((e: unknown) =>
        this.#c.logger.error("could not record a failed create", { instanceId, error: String(e) }),
      );
    return undefined;
  }
}

/** 15 minutes: past the default report retries (about 17 minutes), so a check rarely finds work to do. */
export const DEFAULT_WORKFLOW_CHECK_MS = 15 * 60_000;

export function checkKey(instanceId: string): string {
  return `workflow-check:${instanceId}`;
}

const OPEN = new Set(["running", "waiting", "interrupted"]);

/** A create or check row's payload, or undefined when its call no longer waits (nothing to do). */
export function pendingRow(sql: SqlPort, row: CreatePayload): CreatePayload | undefined {
  return pendingCall(sql, row.params) ? row : undefined;
}

/**
 * The call's record while it still waits for its outcome: `delegated` to its own instance in a
 * run not ended, or (`inStep`: performed in its run's own Workflow step) `started` in a run
 * still running, as an inline tool's result is taken.
 */
export function pendingCall(
  sql: SqlPort,
  call: Pick<ToolWorkflowParams, "runId" | "step" | "callId">,
  inStep = false,
): ToolCallRecord | undefined {
  const run = getRun(sql, call.runId);
  if (!run || !(inStep ? run.status === "running" : OPEN.has(run.status))) return undefined;
  const record = stepToolCalls(sql, call.runId, call.step).find((c) => c.callId === call.callId);
  return record?.status === (inStep ? "started" : "delegated") ? record : undefined;
}

/**
 * The session's side of a result: the events to append, none for a duplicate or for a
 * run that ended meanwhile (aborted, failed, completed).
 */
export function workflowResultEvents(
  sql: SqlPort,
  call: Pick<ToolWorkflowParams, "runId" | "step" | "callId">,
  outcome: ToolWorkflowOutcome,
  maxResultBytes: number,
  inStep = false,
): NewEvent[] {
  const record = pendingCall(sql, call, inStep);
  if (!record) return [];
  const base = { step: call.step, callId: call.callId, name: record.name };
  const failed = (error: ErrorInfo): NewEvent[] => [
    { kind: "tool.failed", runId: call.runId, data: { ...base, error } },
  ];
  if (outcome.type === "failed") return failed(outcome.error);
  const tooLarge = oversized(outcome.result, maxResultBytes);
  if (tooLarge) return failed(tooLarge);
  return [{ kind: "tool.completed", runId: call.runId, data: { ...base, result: outcome.result } }];
}

function oversized(result: JsonValue, maxResultBytes: number): ErrorInfo | undefined {
  const bytes = utf8Length(JSON.stringify(result ?? null));
  if (bytes <= maxResultBytes) return undefined;
  return {
    code: "tool_result_too_large",
    message: `the workflow's result is ${bytes} bytes, more than ${maxResultBytes}; return a summary or a reference instead`,
  };
}
