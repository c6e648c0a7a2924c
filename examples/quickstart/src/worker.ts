import { allowLocalDev, createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import { serveAgentMcp } from "@durable-agents/cloudflare/mcp";

/** A Durable Streams server comes with it: one object per stream at /v1/stream/*. */
export { DurableStreamObject } from "@durable-agents/cloudflare";

import { assistant } from "./assistant.ts";
import { DEV_INFO_PATH, devInfoResponse } from "./dev-info.ts";
import { inspectorResponse } from "./inspector/index.ts";
import { noteStats } from "./note-events.ts";
import { noteStatsEndpoint } from "./note-stats-endpoint.ts";
import { researcher } from "./researcher.ts";
import { reminder } from "./triggers.ts";

/**
 * allowLocalDev(): requests to 127.0.0.1 need no token while AUTH_SECRET is
 * unset (so the CLI works); anything else needs a signed token. One door:
 * the same check guards the sessions, /v1/stream/* and the index routes.
 */
const authorize = allowLocalDev();

/**
 * One Durable Object per agent session. Bound as AGENTS in wrangler.jsonc. The researcher
 * is the assistant's sub-agent; `reminder` is the schedules' trigger kind; `note_stats` is an
 * app projection of the notes tools' events, served at `GET .../note-stats`; `index` mirrors
 * every session's status and usage to the D1 database INDEX_DB (GET /sessions, GET /usage).
 */
export const AgentSession = createAgentServer({
  agents: [assistant, researcher],
  authorize,
  triggers: [reminder],
  projections: [noteStats],
  endpoints: [noteStatsEndpoint],
  index: {},
});

export default {
  fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (request.method === "GET" && pathname === "/")
      return inspectorResponse({ agents: [assistant.name, researcher.name] });
    if (request.method === "GET" && pathname === DEV_INFO_PATH)
      return devInfoResponse(request, env);
    // mcp: each agent is also an MCP server at /mcp/:agent (here /mcp/assistant).
    return routeRequest(request, env, ctx, { authorize, mcp: serveAgentMcp });
  },
} satisfies ExportedHandler<
  {
    AGENTS: DurableObjectNamespace;
    STREAMS: DurableObjectNamespace;
    INDEX_DB: D1Database;
  } & Record<string, unknown>
>;
