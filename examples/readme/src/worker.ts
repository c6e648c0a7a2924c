import { allowLocalDev, createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import { assistant } from "./agent";

// One Durable Object per session, bound as AGENTS in wrangler.jsonc. allowLocalDev():
// no token needed from this machine on 127.0.0.1 while AUTH_SECRET is unset (a dev server
// that listens beyond loopback, `wrangler dev --ip 0.0.0.0`, needs AUTH_SECRET; a browser
// page served elsewhere than this Worker, allowLocalDev({ origins })); elsewhere a signed
// token.
export const AgentSession = createAgentServer({ agents: [assistant], authorize: allowLocalDev() });

// `server`: the Worker's own routes (GET /sessions, and /v1/stream/* or /mcp/:agent
// once served) apply the same rule.
export default {
  fetch: (request, env, ctx) => routeRequest(request, env, ctx, { server: AgentSession }),
} satisfies ExportedHandler<{ AGENTS: DurableObjectNamespace }>;
