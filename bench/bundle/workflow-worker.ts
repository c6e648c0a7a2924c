// bench/bundle's minimal agent Worker driven by Workflows: the agent has `executor:
// "workflow"` and the Worker exports createAgentWorkflow, which brings the Workflow
// executor's side (workflow-run/host.ts and instances.ts, the binding's port) that a Worker
// without it does not carry (npm run bench -- bundle-size; test/e2e's bundle test checks
// that this Worker carries them and the minimal one does not).
import {
  allowLocalDev,
  createAgentServer,
  createAgentWorkflow,
  routeRequest,
} from "@durable-agents/cloudflare";
import { defineAgent, scriptedModel } from "@durable-agents/core";

const echo = defineAgent({
  name: "echo",
  system: "You repeat.",
  model: scriptedModel({ turns: [{ text: "hello" }] }),
  tools: [],
  maxSteps: 1,
  executor: "workflow",
});

export const AgentSession = createAgentServer({ agents: [echo], authorize: allowLocalDev() });
export const AgentWorkflow = createAgentWorkflow({ agents: [echo] });

export default {
  fetch: (request, env, ctx) => routeRequest(request, env, ctx, { server: AgentSession }),
} satisfies ExportedHandler<{ AGENTS: DurableObjectNamespace }>;
