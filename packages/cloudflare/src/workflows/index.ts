export { WorkflowToolContextError, workflowToolContext } from "./tool-context.ts";
export {
  createToolWorkflow,
  type ToolWorkflowClass,
  type ToolWorkflowOptions,
} from "./tool-workflow.ts";
export { toolWorkflowPort } from "./workflow-port.ts";
