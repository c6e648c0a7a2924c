import type { AgentWorkflowParams, AgentWorkflowPort } from "@durable-agents/core";
import { createOrWake, FINISHED, find, instanceStatus } from "./instance-wake.ts";

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
      // A finished instance is restarted: a failed run retried.
      if (await createOrWake(workflow, instanceId, params))
        await (await workflow.get(instanceId)).restart();
      return undefined;
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
      return instanceStatus(workflow, instanceId);
    },
  };
}
