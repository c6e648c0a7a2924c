import type { TriggerHandler, TriggerOutcome } from "../triggers/pump.ts";
import type { RuntimeHandlers } from "./runtime-work.ts";
import {
  type CreatePayload,
  DEFAULT_WORKFLOW_CHECK_MS,
  pendingRow,
  type ToolWorkflowExecutor,
  type ToolWorkflowOutcome,
  type ToolWorkflowStatus,
  WORKFLOW_CHECK_KIND,
  WORKFLOW_CREATE_KIND,
  type WorkflowCallContext,
  WorkflowLauncher,
} from "./workflow-calls.ts";

/** A session's `workflow.create` and `workflow.check` handlers (check every 15 minutes unless told). */
export function workflowHandlers(
  context: Omit<WorkflowCallContext, "checkMs"> & { readonly checkMs: number | undefined },
): Pick<RuntimeHandlers, typeof WORKFLOW_CREATE_KIND | typeof WORKFLOW_CHECK_KIND> {
  const shared = { ...context, checkMs: context.checkMs ?? DEFAULT_WORKFLOW_CHECK_MS };
  return {
    [WORKFLOW_CREATE_KIND]: new WorkflowLauncher(shared),
    [WORKFLOW_CHECK_KIND]: new WorkflowChecker(shared),
  };
}

/** The tool Workflow executor (`SessionRuntimeOptions.toolWorkflows`; workflow-calls.ts). */
export const toolWorkflowExecutor: ToolWorkflowExecutor = { handlers: workflowHandlers };

/**
 * The `workflow.check` rows: the session's reconciler for a call whose instance exists.
 * An instance reports its outcome itself, but that report can run out of retries, and an
 * instance can stall; the check reads the outcome from the instance's status instead, and
 * wakes an instance that has not finished, so the call never waits forever.
 *
 * Invariants:
 * 1. A check does nothing once the call is no longer pending (its result was recorded, or
 *    its run ended): it neither reads the status nor records anything.
 * 2. A finished instance yields exactly one outcome, recorded through the same path as a
 *    report (so a report and a check racing each other still record one result).
 * 3. An instance not finished is woken (`port.wake`: the `wake` event, never a create, which
 *    would fail for an id that exists, nor a restart), as a Workflow run's progress check wakes
 *    its instance (workflow-run/instances.ts, invariant 4). An instance the platform left dormant
 *    (wrangler dev's local Workflows, restarted mid-step, resume an instance only when an
 *    event arrives, and report `running` meanwhile) therefore goes on: its completed steps
 *    answer from Workflows' cache (none runs twice), and its report records the one result.
 *    A wake that reaches a busy instance changes nothing.
 * 4. A status that cannot be read is asked again at the next check, never dropped.
 */
export class WorkflowChecker implements TriggerHandler<CreatePayload> {
  readonly #c: WorkflowCallContext;

  constructor(context: WorkflowCallContext) {
    this.#c = context;
  }

  async run(payload: CreatePayload): Promise<TriggerOutcome> {
    const { port, clock, logger } = this.#c;
    const row = pendingRow(this.#c.sql, payload);
    if (!port || !row) return { type: "done" };
    const { instanceId, params } = row;
    const status = await port.status(instanceId);
    const outcome = finishedOutcome(status, instanceId, params.tool);
    if (!outcome) {
      // Invariant 3; a refusal (the binding went away) fails the call, as at its create.
      const refused = await port.wake(instanceId);
      if (refused)
        await this.#c.record({ call: params, outcome: { type: "failed", error: refused } });
      return refused ? { type: "done" } : { type: "again", at: clock.now() + this.#c.checkMs };
    }
    logger.warn("a tool's Workflow instance ended but its report did not reach the session", {
      instanceId,
      tool: params.tool,
      runId: params.runId,
      callId: params.callId,
      status: status.status,
    });
    await this.#c.record({ call: params, outcome });
    return { type: "done" };
  }

  /** The status could not be read (the pump's retries are spent): ask again at the next check. */
  giveUp({ instanceId, params }: CreatePayload, error: unknown): number {
    this.#c.logger.error("could not read a tool's Workflow instance status; checking again later", {
      instanceId,
      tool: params.tool,
      error: error instanceof Error ? error.message : String(error),
    });
    return this.#c.clock.now() + this.#c.checkMs;
  }
}

/** The call's outcome if the instance has finished; undefined while it still runs (or is paused). */
export function finishedOutcome(
  status: ToolWorkflowStatus,
  instanceId: string,
  tool: string,
): ToolWorkflowOutcome | undefined {
  const failed = (message: string): ToolWorkflowOutcome => ({
    type: "failed",
    error: { code: "workflow_failed", message },
  });
  switch (status.status) {
    case "complete":
      return isOutcome(status.output)
        ? status.output
        : failed(
            `the Workflow instance ${instanceId} for the ${tool} tool completed without a tool outcome; is its class a createToolWorkflow export?`,
          );
    case "errored":
    case "terminated":
      return failed(
        `the Workflow instance ${instanceId} for the ${tool} tool ${status.status}: ${status.error?.message ?? "no error given"}; see its steps with "wrangler workflows instances describe"`,
      );
    default:
      return undefined;
  }
}

function isOutcome(output: unknown): output is ToolWorkflowOutcome {
  if (typeof output !== "object" || output === null) return false;
  const { type } = output as { type?: unknown };
  if (type === "completed") return "result" in output;
  if (type === "failed") {
    const { error } = output as { error?: { code?: unknown; message?: unknown } };
    return typeof error?.code === "string" && typeof error.message === "string";
  }
  return false;
}
