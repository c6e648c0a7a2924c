// bench/bundle's minimal agent Worker with OpenTelemetry tracing on (otelTracing() from
// @durable-agents/cloudflare/otel): the difference of the two bundles is what tracing costs a
// Worker's upload (npm run bench -- bundle-size; figures in docs/benchmarks.md).
import { allowLocalDev, createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import { otelTracing } from "@durable-agents/cloudflare/otel";
import { defineAgent, scriptedModel } from "@durable-agents/core";

const echo = defineAgent({
  name: "echo",
  system: "You repeat.",
  model: scriptedModel({ turns: [{ text: "hello" }] }),
  tools: [],
  maxSteps: 1,
});

export const AgentSession = createAgentServer({
  agents: [echo],
  authorize: allowLocalDev(),
  tracing: otelTracing(),
});

export default {
  fetch: (request, env, ctx) => routeRequest(request, env, ctx, { server: AgentSession }),
} satisfies ExportedHandler<{ AGENTS: DurableObjectNamespace }>;
