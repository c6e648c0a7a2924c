import {
  DurableAgentsError,
  type ToolContext,
  type ToolWorkflowParams,
} from "@durable-agents/core";

/** A workflow tool used a part of ToolContext that only exists inside the session object. */
export class WorkflowToolContextError extends DurableAgentsError {
  constructor(tool: string, member: string) {
    super(
      "workflow_tool_context",
      500,
      `${tool} runs in a Workflow, outside the session object, so ctx.${member} is not available; return the data as the tool's result, or make the tool inline (drop executor: "workflow")`,
      false,
    );
  }
}

/** The ToolContext of a call executed in a Workflow instance: ids and key, no session storage. */
export function workflowToolContext(
  call: ToolWorkflowParams,
  fetchFor: (signal: AbortSignal) => typeof fetch,
): ToolContext {
  const unavailable = (member: string) => () => {
    throw new WorkflowToolContextError(call.tool, member);
  };
  const signal = new AbortController().signal;
  return {
    idempotencyKey: call.idempotencyKey,
    signal,
    fetch: fetchFor(signal),
    sessionId: call.session,
    runId: call.runId,
    callId: call.callId,
    step: call.step,
    transaction: unavailable("transaction"),
    query: unavailable("query"),
    state: { get: unavailable("state"), set: unavailable("state") },
    emit: unavailable("emit"),
    projection: unavailable("projection"),
    schedule: unavailable("schedule"),
  };
}
