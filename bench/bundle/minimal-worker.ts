// The smallest agent Worker: one agent, the scripted model, no tools and no provider package.
// Its bundle is what @durable-agents/* and zod cost a Worker (npm run bench -- bundle-size);
// the consumer test (test/consumer/) bundles it from the installed tarballs.
import { allowLocalDev, createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import { defineAgent, scriptedModel } from "@durable-agents/core";

const echo = defineAgent({
  name: "echo",
  system: "You repeat.",
  model: scriptedModel({ turns: [{ text: "hello" }] }),
  tools: [],
  maxSteps: 1,
});

export const AgentSession = createAgentServer({ agents: [echo], authorize: allowLocalDev() });

export default {
  fetch: (request, env, ctx) => routeRequest(request, env, ctx, { server: AgentSession }),
} satisfies ExportedHandler<{ AGENTS: DurableObjectNamespace }>;
