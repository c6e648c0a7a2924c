import type {
  AgentWorkflowPort,
  ToolWorkflowExecutor,
  ToolWorkflowPort,
  WorkflowRunExecutor,
} from "@durable-agents/core";

/**
 * The executors' sides of the session objects, each with its binding's port, installed by the
 * export that needs it when the Worker creates its Workflow class: `createAgentWorkflow` the
 * Workflow executor of whole runs (core's `workflowRunExecutor`, agent-workflow-port.ts),
 * `createToolWorkflow` that of `executor: "workflow"` tools (`toolWorkflowExecutor`,
 * workflow-port.ts). The session object reads them here instead of importing them, so a
 * Worker that exports neither class bundles neither side, and one that does has it before any
 * request (a Worker's top-level code runs first). Without a side, a run or a tool call on
 * Workflows fails with `workflows_unavailable`, whose message names the export.
 */
export interface WorkflowSide<Executor, Port> {
  readonly executor: Executor;
  /** The port over the Workflows binding named `binding`. */
  readonly port: (env: Record<string, unknown>, binding: string) => Port;
}

export type AgentWorkflowSide = WorkflowSide<WorkflowRunExecutor, AgentWorkflowPort>;
export type ToolWorkflowSide = WorkflowSide<ToolWorkflowExecutor, ToolWorkflowPort>;

const installed: { agent?: AgentWorkflowSide; tool?: ToolWorkflowSide } = {};

/** Called by createAgentWorkflow; the same side every time, so calling it twice changes nothing. */
export function installAgentWorkflowSide(side: AgentWorkflowSide): void {
  installed.agent = side;
}

/** Called by createToolWorkflow; the same side every time, so calling it twice changes nothing. */
export function installToolWorkflowSide(side: ToolWorkflowSide): void {
  installed.tool = side;
}

/** The sides installed in this isolate: each present when its export was created. */
export function workflowSides(): {
  readonly agent?: AgentWorkflowSide;
  readonly tool?: ToolWorkflowSide;
} {
  return installed;
}
