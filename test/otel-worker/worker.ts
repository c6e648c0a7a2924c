// The quickstart's assistant, traced: createAgentServer's `tracing` is otelTracing() from
// @durable-agents/cloudflare/otel, which reads OTEL_EXPORTER_OTLP_ENDPOINT from env.
import { allowLocalDev, createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import { otelTracing } from "@durable-agents/cloudflare/otel";
import { assistant } from "../../examples/quickstart/src/assistant.ts";
import { researcher } from "../../examples/quickstart/src/researcher.ts";

export const AgentSession = createAgentServer({
  agents: [assistant, researcher],
  authorize: allowLocalDev(),
  tracing: otelTracing({ serviceName: "otel-e2e" }),
});

export default {
  fetch: (request, env, ctx) => routeRequest(request, env, ctx, { server: AgentSession }),
} satisfies ExportedHandler<{ AGENTS: DurableObjectNamespace }>;
