import type { ToolWorkflowParams, ToolWorkflowPort } from "@durable-agents/core";

/**
 * Creates tool Workflow instances through the binding `binding`. The id is
 * deterministic, so a create that finds the instance already there (a redrive
 * after a crash) is a success. Any other throw is transient: the outbox retries.
 */
export function toolWorkflowPort(env: Record<string, unknown>, binding: string): ToolWorkflowPort {
  return {
    async create(instanceId, params) {
      const workflow = env[binding] as Workflow<ToolWorkflowParams> | undefined;
      if (!workflow) {
        return {
          code: "workflows_unavailable",
          message: `the ${params.tool} tool runs on Workflows, but the binding "${binding}" is missing; add it under "workflows" in wrangler.jsonc (class_name: your createToolWorkflow export) or set createAgentServer({ toolWorkflow })`,
        };
      }
      try {
        await workflow.create({ id: instanceId, params });
      } catch (error) {
        if (!(await exists(workflow, instanceId))) throw error;
      }
      return undefined;
    },
  };
}

async function exists(workflow: Workflow<ToolWorkflowParams>, id: string): Promise<boolean> {
  try {
    await workflow.get(id);
    return true;
  } catch {
    return false;
  }
}
