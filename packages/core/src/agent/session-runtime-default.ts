import { SessionRuntime as SessionRuntimeBase } from "./session-runtime.ts";
import type { SessionRuntimeOptions } from "./session-runtime-options.ts";
import { toolWorkflowExecutor } from "./workflow-check.ts";
import { workflowRunExecutor } from "./workflow-run/executor.ts";

/**
 * A session with every executor built in: `SessionRuntimeBase` (session-runtime.ts) with the
 * Workflow executor's side (`workflowRuns: workflowRunExecutor`) and the tool Workflow
 * executor (`toolWorkflows: toolWorkflowExecutor`) unless the options name them.
 * What `@durable-agents/core` exports as `SessionRuntime`; the session object builds
 * `SessionRuntimeBase` and passes each executor only when its Worker exports the Workflow
 * class that needs it, so the others bundle none of it.
 */
export class SessionRuntime extends SessionRuntimeBase {
  constructor(options: SessionRuntimeOptions) {
    super({ workflowRuns: workflowRunExecutor, toolWorkflows: toolWorkflowExecutor, ...options });
  }
}
