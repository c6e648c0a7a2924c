import {
  WorkflowEntrypoint,
  type WorkflowEvent,
  type WorkflowStep,
  type WorkflowStepConfig,
} from "cloudflare:workers";
import {
  type AgentDefinition,
  admitCall,
  consoleLogger,
  DurableAgentsError,
  governedFetch,
  isWorkflowTool,
  type JsonValue,
  type Logger,
  parseToolInput,
  type ResolvedDomains,
  resolveDomains,
  type ToolWorkflowOutcome,
  type ToolWorkflowParams,
  type ToolWorkflowResult,
  toolWorkflowExecutor,
} from "@durable-agents/core";
import { AgentRegistry } from "../agent-object/registry.ts";
import { stubFor } from "../agent-object/session-peers.ts";
import { workflowToolContext } from "./tool-context.ts";
import { toolWorkflowPort } from "./workflow-port.ts";
import { installToolWorkflowSide } from "./workflow-sides.ts";

export interface ToolWorkflowOptions {
  /** The same agents (or registry) as createAgentServer: the workflow finds the tool's execute there. */
  readonly agents: readonly AgentDefinition[] | AgentRegistry;
  /** The session objects' Durable Object binding, to report results to. Default "AGENTS". */
  readonly binding?: string;
  /** Retries and timeout of the step that runs `execute` (Workflows' defaults otherwise). */
  readonly execute?: WorkflowStepConfig;
  /** Retries and timeout of the step that reports the result to the session. */
  readonly report?: WorkflowStepConfig;
  /** Where a report that could not be delivered is logged. Default: JSON lines on the console. */
  readonly logger?: Logger;
}

/**
 * Reporting is cheap and idempotent: retry it often, for about 17 minutes (1 + 2 + ... + 512
 * seconds of backoff). The session's `workflow.check` (first after 15 minutes by default)
 * reads the outcome from the instance's output if every attempt fails.
 */
const DEFAULT_REPORT: WorkflowStepConfig = {
  retries: { limit: 10, delay: "1 second", backoff: "exponential" },
  timeout: "1 minute",
};

/**
 * The class createToolWorkflow returns (named for the published declarations, like
 * AgentServerClass).
 */
export type ToolWorkflowClass = new (
  ctx: ExecutionContext,
  env: Record<string, unknown>,
) => WorkflowEntrypoint<Record<string, unknown>, ToolWorkflowParams>;

/**
 * Returns the Workflow class that executes `executor: "workflow"` tools. Export
 * it from your Worker under the class_name of the "workflows" binding
 * (default binding name TOOL_WORKFLOW). Each instance runs one call's `execute`
 * in a step (retried by Workflows: at least once), then reports the outcome to
 * the session in a second step; the session records exactly one result.
 * Calling it also gives this Worker's session objects the tool Workflow executor
 * (workflow-sides.ts): a Worker that never calls it bundles none of that, and
 * fails such calls with `workflows_unavailable`.
 * @example
 * export const ToolWorkflow = createToolWorkflow({ agents: [assistant] });
 */
export function createToolWorkflow(options: ToolWorkflowOptions): ToolWorkflowClass {
  installToolWorkflowSide({ executor: toolWorkflowExecutor, port: toolWorkflowPort });
  const registry =
    options.agents instanceof AgentRegistry ? options.agents : new AgentRegistry(options.agents);
  const binding = options.binding ?? "AGENTS";
  const logger = options.logger ?? consoleLogger;

  return class ToolWorkflow extends WorkflowEntrypoint<
    Record<string, unknown>,
    ToolWorkflowParams
  > {
    override async run(
      event: Readonly<WorkflowEvent<ToolWorkflowParams>>,
      step: WorkflowStep,
    ): Promise<ToolWorkflowOutcome> {
      const call = event.payload;
      const outcome = await this.#execute(call, step);
      const result: ToolWorkflowResult = { call, outcome };
      const fields = {
        tool: call.tool,
        agent: call.agent,
        session: call.session,
        callId: call.callId,
      };
      try {
        await step.do("report", options.report ?? DEFAULT_REPORT, async () => {
          const refused = await stubFor(
            this.env,
            binding,
            call.agent,
            call.session,
          ).receiveToolResult(result);
          // A refusal (the agent is gone from this deploy) is permanent: retrying cannot help.
          if (refused) {
            logger.error("the session refused a tool's outcome; is the agent in this deploy?", {
              ...fields,
              status: refused.status,
              body: refused.body,
            });
          }
          return refused ? refused.status : 0;
        });
      } catch (error) {
        // Completing anyway keeps the outcome as the instance's output, where the check finds it.
        logger.error("could not report a tool's outcome to its session; its check will read it", {
          ...fields,
          error: messageOf(error),
        });
      }
      // The instance's output: what the session's workflow.check records if the report is lost.
      return outcome;
    }

    #execute(call: ToolWorkflowParams, step: WorkflowStep): Promise<ToolWorkflowOutcome> {
      // The admission and the execution are steps of their own: a replay keeps their answers.
      return executeToolCall(registry, this.env, call, {
        admit: (name, run) => step.do(name, run),
        execute: (name, run) =>
          options.execute ? step.do(name, options.execute, run) : step.do(name, run),
      });
    }
  };
}

/** How a tool call's admission and execution are recorded: as steps, or run as they are. */
/** A refused admission (the error the model sees), or null when admitted. */
type Refusal = NonNullable<Awaited<ReturnType<typeof admitCall>>> | null;

export interface ToolCallSteps {
  admit(name: string, run: () => Promise<Refusal>): Promise<Refusal>;
  execute(name: string, run: () => Promise<string>): Promise<string>;
}

/**
 * Runs one `executor: "workflow"` tool call in a Workflow's isolate: finds the agent and the
 * tool in `registry`, checks the input, admits the call (the same admission as inline and
 * MCP calls) and executes it. Never throws: every failure is the call's outcome. Used by
 * createToolWorkflow (a tool's own instance) and createAgentWorkflow (a step of the run's).
 */
export async function executeToolCall(
  registry: AgentRegistry,
  env: Record<string, unknown>,
  call: ToolWorkflowParams,
  steps: ToolCallSteps,
): Promise<ToolWorkflowOutcome> {
  let agent: AgentDefinition;
  try {
    agent = registry.resolve(call.agent, { session: call.session, env });
  } catch (error) {
    return failed("agent_not_found", messageOf(error));
  }
  const tool = agent.tools.find((t) => t.name === call.tool);
  if (!tool || !isWorkflowTool(tool)) {
    return failed(
      "unknown_tool",
      `agent ${call.agent} has no workflow tool "${call.tool}"; pass the same agents to createToolWorkflow and createAgentWorkflow as to createAgentServer`,
    );
  }
  const input = await parseToolInput(tool.name, tool.input, call.args);
  if (!input.success) {
    return failed(
      "invalid_tool_input",
      `input for ${tool.name} does not match its schema: ${input.message}`,
    );
  }
  let domains: ResolvedDomains;
  try {
    domains = resolveDomains(agent, env);
  } catch (error) {
    return failed(
      error instanceof DurableAgentsError ? error.code : "tool_error",
      messageOf(error),
    );
  }
  const fetcher = (i: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(i, init);
  const ctx = workflowToolContext(call, (signal) => governedFetch(tool, domains, fetcher, signal));
  const refused = await steps.admit(`admit ${call.tool}`, async () => {
    const { transaction: _t, state: _s, fetch: _f, ...ids } = ctx;
    return (
      (await admitCall(tool, input.value, {
        ...ids,
        authority: tool.authority ?? "write",
        state: { get: ctx.state.get },
      })) ?? null
    );
  });
  if (refused) return { type: "failed", error: refused };
  // The result as JSON text: what the model would see inline.
  const run = async (): Promise<string> =>
    JSON.stringify((await tool.execute(input.value, ctx)) ?? null);
  try {
    const json = await steps.execute(`execute ${call.tool}`, run);
    return { type: "completed", result: JSON.parse(json) as JsonValue };
  } catch (error) {
    return failed("tool_error", messageOf(error));
  }
}

function failed(code: string, message: string): ToolWorkflowOutcome {
  return { type: "failed", error: { code, message } };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
