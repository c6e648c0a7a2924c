import { SessionRuntime as SessionRuntimeBase } from "./session-runtime.ts";
import type { SessionRuntimeOptions } from "./session-runtime-options.ts";
import { workflowRunExecutor } from "./workflow-run/executor.ts";

/**
 * A session with every executor built in: `SessionRuntimeBase` (session-runtime.ts) with the
 * Workflow executor's side (`workflowRuns: workflowRunExecutor`) unless the options name one.
 * What `@durable-agents/core` exports as `SessionRuntime`; the session object builds
 * `SessionRuntimeBase` and passes the executor only when its Worker drives runs on
 * Workflows, so the others bundle none of it.
 */
export class SessionRuntime extends SessionRuntimeBase {
  constructor(options: SessionRuntimeOptions) {
    super({ workflowRuns: workflowRunExecutor, ...options });
  }
}
