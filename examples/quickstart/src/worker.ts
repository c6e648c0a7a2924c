import { createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import { assistant } from "./assistant.ts";

/** One Durable Object per agent session. Bound as AGENTS in wrangler.jsonc. */
export const AgentSession = createAgentServer({ agents: [assistant] });

export default {
  fetch: (request, env, ctx) => routeRequest(request, env, ctx),
} satisfies ExportedHandler<{ AGENTS: DurableObjectNamespace }>;
