export {
  type AgentWorkflowCall,
  type AgentWorkflowClass,
  type AgentWorkflowOptions,
  type AgentWorkflowReply,
  type AgentWorkflowStub,
  createAgentWorkflow,
} from "./agent-workflow.ts";
export { agentWorkflowPort } from "./agent-workflow-port.ts";
export { WorkflowToolContextError, workflowToolContext } from "./tool-context.ts";
export {
  createToolWorkflow,
  type ToolWorkflowClass,
  type ToolWorkflowOptions,
} from "./tool-workflow.ts";
export { toolWorkflowPort } from "./workflow-port.ts";
