import type { ToolWorkflowParams, ToolWorkflowPort } from "@durable-agents/core";
import { createOrWake, instanceStatus, wake } from "./instance-wake.ts";

/**
 * Creates tool Workflow instances through the binding `binding`, and reads their status and
 * wakes them for the session's check. Without the binding it says so (`unavailable`), and a
 * call fails at its start with that. The id is deterministic, so a create that finds the
 * instance already there (a redrive after a crash) is a success that wakes it, as a run's
 * instance is woken (instance-wake.ts); the check, which has just read that its instance has
 * not finished, wakes it without a create: this is what gets a tool going again after a
 * restart of `wrangler dev`. A finished instance is never restarted (`execute` would run
 * again). Any other throw is transient: the outbox retries, and fails the call once its
 * retries are spent.
 */
export function toolWorkflowPort(env: Record<string, unknown>, binding: string): ToolWorkflowPort {
  const missing = (tools: string) =>
    `${tools} run on Workflows, but the binding "${binding}" is missing; add it under "workflows" in wrangler.jsonc (class_name: your createToolWorkflow export) or set createAgentServer({ toolWorkflow })`;
  const code = "workflows_unavailable";
  return {
    ...(env[binding]
      ? {}
      : { unavailable: { code, message: missing('tools with executor "workflow"') } }),
    async create(instanceId, params) {
      const workflow = env[binding] as Workflow<ToolWorkflowParams> | undefined;
      if (!workflow) return { code, message: missing(`the ${params.tool} tool`) };
      // A finished instance is left as it is: the session's check reads its outcome.
      await createOrWake(workflow, instanceId, params);
      return undefined;
    },
    async wake(instanceId) {
      const workflow = env[binding] as Workflow<ToolWorkflowParams> | undefined;
      if (!workflow) return { code, message: missing("workflow tools") };
      await wake(await workflow.get(instanceId));
      return undefined;
    },
    async status(instanceId) {
      const workflow = env[binding] as Workflow<ToolWorkflowParams> | undefined;
      if (!workflow) throw new TypeError(missing("workflow tools"));
      return instanceStatus(workflow, instanceId);
    },
  };
}
