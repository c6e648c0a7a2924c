import {
  allowLocalDev,
  createAgentServer,
  createAgentWorkflow,
  routeRequest,
} from "@durable-agents/cloudflare";
import { benchAgent, benchWorkflowAgent } from "./agent.ts";

/** The step-cost bench's Worker (bench/step-cost.ts): one agent on both executors. */
const agents = [benchAgent, benchWorkflowAgent];

export const AgentSession = createAgentServer({
  agents,
  authorize: allowLocalDev(),
});

/** Drives the runs of `bench-wf`, one instance per run (binding AGENT_WORKFLOW). */
export const AgentWorkflow = createAgentWorkflow({ agents });

export default {
  fetch: (request, env, ctx) => routeRequest(request, env, ctx, { authorize: allowLocalDev() }),
} satisfies ExportedHandler<{ AGENTS: DurableObjectNamespace } & Record<string, unknown>>;
