import { type ToolWorkflowStatus, WAKE_EVENT } from "@durable-agents/core";

/** The statuses of an instance that will not run again unless restarted. */
export const FINISHED: ReadonlySet<string> = new Set(["complete", "errored", "terminated"]);

/**
 * Sends the instance the `wake` event: the one way both Workflow ports (a run's,
 * agent-workflow-port.ts; a tool call's, workflow-port.ts) get a stalled instance going again.
 * Under `wrangler dev`, whose local Workflows resume an instance left dormant by a restart of
 * the process (a crash, a reload after a source edit) only when an event arrives, that event
 * replays it: the steps it completed answer from their cache and are not run again, the step
 * it was in is run again (Workflows' at-least-once), and a step's retry backoff goes on. An
 * instance that is busy, or parked in `waitForEvent`, only buffers the event (a run's loop then
 * decides again from the ledger; a tool's never reads it). An event never restarts an
 * instance that finished.
 */
export async function wake(instance: WorkflowInstance): Promise<void> {
  await instance.sendEvent({ type: WAKE_EVENT, payload: {} });
}

/**
 * Creates the instance `id` with `params` or, when the id exists, wakes it (`wake`) unless it
 * has finished: a redriven create, and a run's progress check. Resolves to the status of an
 * instance that had finished, which is left as it is (the caller decides: a run's is
 * restarted, a tool call's is read by its check), and undefined otherwise. Throws the create's
 * error when the id is not there either: a transient failure, which the outbox retries.
 */
export async function createOrWake<Params>(
  workflow: Workflow<Params>,
  id: string,
  params: Params,
): Promise<string | undefined> {
  try {
    await workflow.create({ id, params });
    return undefined;
  } catch (error) {
    const instance = await find(workflow, id);
    const status = instance && (await instance.status().catch(() => undefined))?.status;
    if (!instance || status === undefined) throw error;
    if (FINISHED.has(status)) return status;
    await wake(instance);
    return undefined;
  }
}

/** The instance `id`, or undefined when the binding has none (or cannot say). */
export async function find<Params>(
  workflow: Workflow<Params>,
  id: string,
): Promise<WorkflowInstance | undefined> {
  try {
    return await workflow.get(id);
  } catch {
    return undefined;
  }
}

/** The instance's status as the ports give it (`status`, `output`, an error's message). Throws when it cannot be read. */
export async function instanceStatus<Params>(
  workflow: Workflow<Params>,
  id: string,
): Promise<ToolWorkflowStatus> {
  const { status, output, error } = await (await workflow.get(id)).status();
  const message = typeof error === "string" ? error : error?.message;
  return { status, output, ...(message === undefined ? {} : { error: { message } }) };
}
