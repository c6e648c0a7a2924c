import { allowLocalDev, createAgentServer, routeRequest } from "@durable-agents/cloudflare";
// The quickstart's demo agent: calculator, notes, clear_notes (needs approval), browser_time (a client-side tool).
import { assistant } from "../../quickstart/src/assistant.ts";

/** One Durable Object per chat: the chat id is the session id. Its rule guards every route. */
export const AgentSession = createAgentServer({ agents: [assistant], authorize: allowLocalDev() });

export default {
  fetch: (request, env, ctx) => routeRequest(request, env, ctx, { server: AgentSession }),
} satisfies ExportedHandler<{ AGENTS: DurableObjectNamespace }>;
