import type { AgentWorkflowPort, WorkflowRunExecutor } from "@durable-agents/core";

/**
 * The Workflow executor's side of the session objects (`workflowRunExecutor` from core and
 * the binding's port, agent-workflow-port.ts), installed by `createAgentWorkflow` when the
 * Worker creates its Workflow class: the session object reads it here instead of importing
 * it, so a Worker that exports no agent Workflow bundles none of it, and one that does gets
 * it before any request (a Worker's top-level code runs first). Without it a start with
 * `executor: "workflow"` is refused with `workflows_unavailable` (workflow-run/unavailable.ts),
 * whose message names the export.
 */
export interface AgentWorkflowSide {
  readonly executor: WorkflowRunExecutor;
  /** The port over the Workflows binding named `binding` (agentWorkflowPort). */
  readonly port: (env: Record<string, unknown>, binding: string) => AgentWorkflowPort;
}

let installed: AgentWorkflowSide | undefined;

/** Called by createAgentWorkflow; the same side every time, so calling it twice changes nothing. */
export function installAgentWorkflowSide(side: AgentWorkflowSide): void {
  installed = side;
}

/** The side createAgentWorkflow installed in this isolate, if it was called. */
export function agentWorkflowSide(): AgentWorkflowSide | undefined {
  return installed;
}
