import {
  WorkflowEntrypoint,
  type WorkflowEvent,
  type WorkflowStep,
  type WorkflowStepConfig,
} from "cloudflare:workers";
import { NonRetryableError } from "cloudflare:workflows";
import {
  type AgentDefinition,
  type AgentWorkflowLoopOptions,
  type AgentWorkflowParams,
  DEFAULT_STEP_RETRIES,
  runAgentWorkflow,
  type StepRetries,
  type StepRunner,
  sessionOverCalls,
  type ToolWorkflowParams,
  type WorkflowCall,
  type WorkflowCallReply,
  workflowRunExecutor,
} from "@durable-agents/core";
import { AgentRegistry } from "../agent-object/registry.ts";
import type { PeerRefusal } from "../agent-object/session-peers.ts";
import { stubFor } from "../agent-object/session-peers.ts";
import { agentWorkflowPort } from "./agent-workflow-port.ts";
import { executeToolCall } from "./tool-workflow.ts";
import { installAgentWorkflowSide } from "./workflow-sides.ts";

export interface AgentWorkflowOptions extends AgentWorkflowLoopOptions {
  /**
   * The same agents (or registry) as createAgentServer: the `executor: "workflow"` tools of a
   * run execute in a step of the run's own instance, found here.
   */
  readonly agents: readonly AgentDefinition[] | AgentRegistry;
  /** The session objects' Durable Object binding (the run's ledger). Default "AGENTS". */
  readonly binding?: string;
  /** How long one model step may take before Workflows retries it. Default "15 minutes". */
  readonly modelTimeout?: WorkflowStepConfig["timeout"];
  /** How long one tool step may take before Workflows retries it. Default "15 minutes". */
  readonly toolTimeout?: WorkflowStepConfig["timeout"];
}

/** One call of a run's Workflow instance to its session object (`agentWorkflowCall` RPC). */
export type AgentWorkflowCall = WorkflowCall;

/** The session object's answer: a decision (for `decide`), or a refusal as data. */
export type AgentWorkflowReply =
  | ({ readonly ok: true } & WorkflowCallReply)
  | { readonly ok: false; readonly refused: PeerRefusal };

/** The RPC surface a session object offers its runs' Workflow instances. */
export interface AgentWorkflowStub {
  agentWorkflowCall(
    params: AgentWorkflowParams,
    call: AgentWorkflowCall,
  ): Promise<AgentWorkflowReply>;
}

/** The class createAgentWorkflow returns (named for the published declarations). */
export type AgentWorkflowClass = new (
  ctx: ExecutionContext,
  env: Record<string, unknown>,
) => WorkflowEntrypoint<Record<string, unknown>, AgentWorkflowParams>;

/**
 * Returns the Workflow class that drives whole runs of agents with `executor: "workflow"`
 * (or runs started with `{ executor: "workflow" }`). Export it from your Worker under the
 * class_name of a "workflows" binding (default binding name AGENT_WORKFLOW). Each instance
 * drives one run: it asks the run's session object what is next, performs each model call
 * and each tool call as its own `step.do`, and parks in `step.waitForEvent` while the run
 * waits (approval, sub-agent, interrupt); the session object keeps the ledger and wakes it.
 * Calling it also gives this Worker's session objects the Workflow executor's side
 * (workflow-sides.ts): a Worker that never calls it bundles none of that, and refuses
 * runs on Workflows (`workflows_unavailable`).
 * @example
 * export const AgentWorkflow = createAgentWorkflow({ agents: [assistant] });
 */
export function createAgentWorkflow(options: AgentWorkflowOptions): AgentWorkflowClass {
  installAgentWorkflowSide({ executor: workflowRunExecutor, port: agentWorkflowPort });
  const binding = options.binding ?? "AGENTS";
  const registry =
    options.agents instanceof AgentRegistry ? options.agents : new AgentRegistry(options.agents);
  return class AgentWorkflow extends WorkflowEntrypoint<
    Record<string, unknown>,
    AgentWorkflowParams
  > {
    override async run(
      event: Readonly<WorkflowEvent<AgentWorkflowParams>>,
      step: WorkflowStep,
    ): Promise<{ readonly status: string }> {
      const params = event.payload;
      const call = async (c: AgentWorkflowCall) => {
        // A fresh stub per call: a stub whose object was reset (evicted, crashed) stays broken.
        const stub = stubFor<AgentWorkflowStub>(this.env, binding, params.agent, params.session);
        const reply = await stub.agentWorkflowCall(params, c);
        if (reply.ok) return reply;
        // A refusal (no such session or run) is permanent: retrying cannot help.
        const body = reply.refused.body as { error?: { message?: string } };
        throw new NonRetryableError(
          body.error?.message ?? `the session refused with status ${reply.refused.status}`,
        );
      };
      const session = sessionOverCalls(call);
      // Inside the run's tool step already: the admission and execution are not steps of their own.
      const execute = (job: ToolWorkflowParams) =>
        executeToolCall(registry, this.env, job, {
          admit: (_name, run) => run(),
          execute: (_name, run) => run(),
        });
      return runAgentWorkflow(session, workflowSteps(step, options), execute, options);
    }
  };
}

/** Workflows' `WorkflowStep` as the core loop's step runner. */
function workflowSteps(step: WorkflowStep, options: AgentWorkflowOptions): StepRunner {
  const config = (retries: StepRetries, timeout: WorkflowStepConfig["timeout"]) => ({
    retries: { limit: retries.limit, delay: retries.delayMs, backoff: retries.backoff },
    timeout,
  });
  // The loop's steps return a step number or a call id: always serializable.
  const stepDo = (name: string, config: WorkflowStepConfig, run: () => Promise<unknown>) =>
    step.do(name, config, run as () => Promise<string>);
  return {
    do: async <T>(name: string, retries: StepRetries, run: () => Promise<T>): Promise<T> => {
      const timeout = name.startsWith("model")
        ? (options.modelTimeout ?? "15 minutes")
        : (options.toolTimeout ?? "15 minutes");
      return (await stepDo(name, config(retries ?? DEFAULT_STEP_RETRIES, timeout), run)) as T;
    },
    waitForEvent: async (name, type, timeoutMs) => {
      await step.waitForEvent(name, { type, timeout: timeoutMs });
    },
  };
}
