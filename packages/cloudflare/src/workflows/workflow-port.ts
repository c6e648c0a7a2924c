import type { ToolWorkflowParams, ToolWorkflowPort } from "@durable-agents/core";

/**
 * Creates tool Workflow instances through the binding `binding`, and reads their status
 * for the session's check. Without the binding it says so (`unavailable`), and a call fails
 * at its start with that. The id is deterministic, so a create that finds the instance
 * already there (a redrive after a crash) is a success. Any other throw is transient: the
 * outbox retries, and fails the call once its retries are spent.
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
      try {
        await workflow.create({ id: instanceId, params });
      } catch (error) {
        if (!(await exists(workflow, instanceId))) throw error;
      }
      return undefined;
    },
    async status(instanceId) {
      const workflow = env[binding] as Workflow<ToolWorkflowParams> | undefined;
      if (!workflow) throw new TypeError(missing("workflow tools"));
      const { status, output, error } = await (await workflow.get(instanceId)).status();
      const message = typeof error === "string" ? error : error?.message;
      return { status, output, ...(message === undefined ? {} : { error: { message } }) };
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
