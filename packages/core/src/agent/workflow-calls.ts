import type { Clock } from "../clock.ts";
import type { ErrorInfo, JsonValue, NewEvent, ParentRef } from "../ledger/events.ts";
import { getRun } from "../ledger/projections/runs.ts";
import { stepToolCalls, type ToolCallRecord } from "../ledger/projections/tool-calls.ts";
import type { SqlPort } from "../sql/port.ts";
import { DueWork } from "../triggers/due-work.ts";
import type { TriggerHandler, TriggerOutcome } from "../triggers/pump.ts";
import type { AnyTool } from "./define-tool.ts";

/**
 * Tool calls executed by a Workflow instance (`executor: "workflow"`).
 *
 * Invariants:
 * 1. A workflow call's `workflow.started` (status `delegated`) and the due-work
 *    row that creates its instance commit with its `tool.started`, in one transaction.
 * 2. The instance id is derived from agent, session, run and call, so a redriven
 *    create names the same instance; creating an existing id counts as success.
 * 3. Receipt is idempotent: a result is recorded only while the call is still
 *    `delegated` and its run is not finished; anything else is acknowledged and ignored.
 */
export const WORKFLOW_CREATE_KIND = "workflow.create";

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

/** Creates Workflow instances. Resolves to a refusal for permanent errors; throws for transient ones. */
export interface ToolWorkflowPort {
  create(instanceId: string, params: ToolWorkflowParams): Promise<ErrorInfo | undefined>;
}

interface CreatePayload {
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
  callId: string,
): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify([agent, session, runId, callId]));
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
  const instanceId = await workflowInstanceId(agent, session, call.runId, call.callId);
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

const works = new WeakMap<SqlPort, DueWork>();

/** Writes the create row; call it inside the append that records `workflow.started`. */
export function createLater(sql: SqlPort, payload: CreatePayload, now: number): void {
  let work = works.get(sql);
  if (!work) {
    work = new DueWork(sql);
    works.set(sql, work);
  }
  work.schedule(WORKFLOW_CREATE_KIND, `workflow:${payload.instanceId}`, payload, now, now);
}

/** Delivers `workflow.create` rows: at least once, never giving up on a transient error. */
export class WorkflowLauncher implements TriggerHandler {
  readonly #port: ToolWorkflowPort | undefined;
  readonly #clock: Clock;
  readonly #onRefused: (params: ToolWorkflowParams, error: ErrorInfo) => Promise<void>;

  constructor(
    port: ToolWorkflowPort | undefined,
    clock: Clock,
    onRefused: (params: ToolWorkflowParams, error: ErrorInfo) => Promise<void>,
  ) {
    this.#port = port;
    this.#clock = clock;
    this.#onRefused = onRefused;
  }

  async run(payload: unknown): Promise<TriggerOutcome> {
    const { instanceId, params } = payload as CreatePayload;
    const refused = this.#port
      ? await this.#port.create(instanceId, params)
      : {
          code: "workflows_unavailable",
          message: `the ${params.tool} tool runs on Workflows, but this server has no Workflows binding; set createAgentServer({ toolWorkflow }) and bind it in wrangler.jsonc`,
        };
    if (refused) await this.#onRefused(params, refused);
    return { type: "done" };
  }

  /** Back off and try again (at most every 5 minutes): the run is waiting for this instance. */
  giveUp(_payload: unknown, _error: unknown, item: { attempts: number }): number {
    return this.#clock.now() + Math.min(300_000, 1000 * 2 ** Math.min(item.attempts, 8));
  }
}

const OPEN = new Set(["running", "waiting", "interrupted"]);

/**
 * The session's side of a result: the events to append, none for a duplicate or for a
 * run that ended meanwhile (aborted, failed, completed).
 */
export function workflowResultEvents(
  sql: SqlPort,
  call: Pick<ToolWorkflowParams, "runId" | "step" | "callId">,
  outcome: ToolWorkflowOutcome,
  maxResultBytes: number,
): NewEvent[] {
  const run = getRun(sql, call.runId);
  if (!run || !OPEN.has(run.status)) return [];
  const record = stepToolCalls(sql, call.runId, call.step).find((c) => c.callId === call.callId);
  if (record?.status !== "delegated") return [];
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
  const bytes = new TextEncoder().encode(JSON.stringify(result ?? null)).byteLength;
  if (bytes <= maxResultBytes) return undefined;
  return {
    code: "tool_result_too_large",
    message: `the workflow's result is ${bytes} bytes, more than ${maxResultBytes}; return a summary or a reference instead`,
  };
}
