import type {
  RUN_WORKFLOW_KIND,
  RUN_WORKFLOW_TERMINATE_KIND,
  RuntimeHandlers,
} from "../runtime-work.ts";
import { WorkflowRunHost, type WorkflowRunHostOptions } from "./host.ts";
import { type RunInstancesContext, runInstanceHandlers } from "./instances.ts";
import type { WorkflowCall, WorkflowCallReply } from "./protocol.ts";

/** The session's side of one run's Workflow instance (host.ts). */
export interface WorkflowRunHostPort {
  /** One call of the run's instance; 404 `run_not_found` for a run the alarm drives. */
  call(runId: string, call: WorkflowCall): Promise<WorkflowCallReply>;
}

/**
 * The Workflow executor's side of a session, as a value the runtime takes
 * (`SessionRuntimeOptions.workflowRuns`) rather than imports: the host that serves the
 * instance's calls (host.ts) and the handlers of the `run.workflow` rows that create, wake,
 * check and terminate instances (instances.ts). `createAgentWorkflow` installs it for the
 * session objects of its Worker, and `SessionRuntime` (core's public class) passes it by
 * default; a server without it refuses Workflow runs (`workflows_unavailable`,
 * unavailable.ts), so a Worker that never drives a run on Workflows bundles none of it.
 */
export interface WorkflowRunExecutor {
  host(options: WorkflowRunHostOptions): WorkflowRunHostPort;
  handlers(
    context: RunInstancesContext,
  ): Pick<RuntimeHandlers, typeof RUN_WORKFLOW_KIND | typeof RUN_WORKFLOW_TERMINATE_KIND>;
}

export const workflowRunExecutor: WorkflowRunExecutor = {
  host: (options) => new WorkflowRunHost(options),
  handlers: runInstanceHandlers,
};
