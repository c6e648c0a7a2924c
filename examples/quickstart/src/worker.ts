import {
  allowLocalDev,
  createAgentServer,
  createAgentWorkflow,
  routeRequest,
} from "@durable-agents/cloudflare";
import { d1Index } from "@durable-agents/cloudflare/d1";
import { serveAgentMcp } from "@durable-agents/cloudflare/mcp";
import { cronSchedules } from "@durable-agents/core/cron";

/** A Durable Streams server comes with it: one object per stream at /v1/stream/*. */
export { DurableStreamObject } from "@durable-agents/cloudflare";

import { assistant, assistantWf } from "./assistant.ts";
import { DEV_INFO_PATH, devInfoResponse } from "./dev-info.ts";
import { inspectorResponse } from "./inspector/index.ts";
import { noteStats } from "./note-events.ts";
import { noteStatsEndpoint } from "./note-stats-endpoint.ts";
import { researcher } from "./researcher.ts";
import { reminder } from "./triggers.ts";

/**
 * The cross-session index: every session's status and usage in the D1 database INDEX_DB
 * (GET /sessions, GET /usage). This one line turns it on, for the sessions and the routes
 * alike; `undefined` turns it off (and a Worker without it bundles none of the index).
 * `d1Index({ shards: 3 })` spreads it over INDEX_DB, INDEX_DB_1 and INDEX_DB_2 (bind all three).
 */
const index = d1Index();

/** The demo's agents: `assistant`, the same on the Workflow executor, and their sub-agent. */
const agents = [assistant, assistantWf, researcher];

/**
 * One Durable Object per agent session. Bound as AGENTS in wrangler.jsonc. `authorize`, declared
 * here once: allowLocalDev() lets requests to 127.0.0.1 in without a token while AUTH_SECRET is
 * unset (so the CLI works); anything else needs a signed token. routeRequest takes it (and the
 * index) from this class, so the same rule guards the sessions and their WebSocket,
 * /v1/stream/*, the index routes and /mcp/:agent. `assistant-wf` is
 * the assistant on the Workflow executor; the researcher is their sub-agent; `reminder` is the
 * schedules' trigger kind, which takes cron schedules too (`cron`, from
 * @durable-agents/core/cron); `note_stats` is an app projection of the notes tools' events,
 * served at `GET .../note-stats`.
 */
export const AgentSession = createAgentServer({
  agents,
  authorize: allowLocalDev(),
  triggers: [reminder],
  cron: cronSchedules,
  projections: [noteStats],
  endpoints: [noteStatsEndpoint],
  index,
});

/**
 * Drives the runs of `assistant-wf` (agents with `executor: "workflow"`): one Workflow
 * instance per run. Bound as AGENT_WORKFLOW in wrangler.jsonc. The same agents as the server.
 */
export const AgentWorkflow = createAgentWorkflow({ agents });

export default {
  fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (request.method === "GET" && pathname === "/")
      return inspectorResponse({ agents: AgentSession.agents });
    if (request.method === "GET" && pathname === DEV_INFO_PATH)
      return devInfoResponse(request, env, index);
    // server: its rule guards every route, and the index routes read the index its sessions
    // write (and say so when it is off). mcp: each of its agents is also an MCP server at
    // /mcp/:agent (here /mcp/assistant).
    return routeRequest(request, env, ctx, { server: AgentSession, mcp: { serve: serveAgentMcp } });
  },
} satisfies ExportedHandler<
  {
    AGENTS: DurableObjectNamespace;
    STREAMS: DurableObjectNamespace;
    INDEX_DB: D1Database;
    AGENT_WORKFLOW: Workflow;
  } & Record<string, unknown>
>;
