import { type AgentWorkflowParams, type AgentWorkflowPort, WAKE_EVENT } from "@durable-agents/core";

const FINISHED = new Set(["complete", "errored", "terminated"]);

/**
 * Creates, wakes and terminates runs' Workflow instances through the binding `binding`
 * (a class made by createAgentWorkflow). The id is derived from the run, so a redriven
 * create names the same instance: when the create finds the id taken, the instance is woken
 * with a `wake` event (buffered by Workflows until the instance waits for it), or restarted
 * when it had finished (a failed run retried). Any other throw is transient: the outbox retries.
 */
export function agentWorkflowPort(
  env: Record<string, unknown>,
  binding: string,
): AgentWorkflowPort {
  const missing = `the run uses executor "workflow", but the binding "${binding}" is missing; export createAgentWorkflow({ agents }) from your Worker, bind it under "workflows" in wrangler.jsonc (binding "${binding}", class_name: that export) or set createAgentServer({ agentWorkflow })`;
  const bound = () => env[binding] as Workflow<AgentWorkflowParams> | undefined;
  return {
    ...(bound() ? {} : { unavailable: { code: "workflows_unavailable", message: missing } }),
    async wake(instanceId, params) {
      const workflow = bound();
      if (!workflow) return { code: "workflows_unavailable", message: missing };
      try {
        await workflow.create({ id: instanceId, params });
        return undefined;
      } catch (error) {
        // The id exists (a wake, or a redriven create): wake the instance, or restart it when
        // it had finished (a failed run retried). Not there: the create's error was transient.
        const instance = await find(workflow, instanceId);
        const status = instance && (await instance.status().catch(() => undefined))?.status;
        if (!instance || status === undefined) throw error;
        if (FINISHED.has(status)) await instance.restart();
        else await instance.sendEvent({ type: WAKE_EVENT, payload: {} });
        return undefined;
      }
    },
    async terminate(instanceId) {
      const workflow = bound();
      if (!workflow) return;
      const instance = await find(workflow, instanceId);
      if (!instance) return;
      try {
        await instance.terminate();
      } catch (error) {
        // Terminating an instance that already finished is refused: that is the outcome we want.
        if (!FINISHED.has((await instance.status()).status)) throw error;
      }
    },
    async status(instanceId) {
      const workflow = bound();
      if (!workflow) throw new TypeError(missing);
      const { status, output, error } = await (await workflow.get(instanceId)).status();
      const message = typeof error === "string" ? error : error?.message;
      return { status, output, ...(message === undefined ? {} : { error: { message } }) };
    },
  };
}

async function find(
  workflow: Workflow<AgentWorkflowParams>,
  id: string,
): Promise<WorkflowInstance | undefined> {
  try {
    return await workflow.get(id);
  } catch {
    return undefined;
  }
}
