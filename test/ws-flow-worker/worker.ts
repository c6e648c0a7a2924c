// One agent with a long answer in small events, behind a tiny WebSocket window (docs/limits.md,
// live.wsWindowBytes and live.stallMs), for test/e2e/ws-flow.test.ts.
import { allowLocalDev, createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import { defineAgent, scriptedModel } from "@durable-agents/core";

const gusher = defineAgent({
  name: "gusher",
  system: "Test agent with a long answer.",
  model: scriptedModel({
    chunkSize: 5,
    turns: [{ text: "Every reader gets every word, once. ".repeat(90) }],
  }),
});

export const AgentSession = createAgentServer({
  agents: [gusher],
  authorize: allowLocalDev(),
  live: { wsWindowBytes: 4_096, stallMs: 1_000 },
  coalesce: { maxDelayMs: 0, maxChars: 10 },
});

export default {
  fetch: (request, env, ctx) => routeRequest(request, env, ctx, { server: AgentSession }),
} satisfies ExportedHandler<{ AGENTS: DurableObjectNamespace }>;
