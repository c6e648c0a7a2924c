import { recordIdentity } from "./index-messages.ts";
import type { SessionIndex } from "./index-port.ts";
import { handleIndexRequest } from "./index-routes.ts";
import { type IndexOptions, indexExtensions } from "./session-index.ts";
import { shardBindings } from "./shards.ts";

/**
 * The cross-session index in D1: each session mirrors its status and usage to it through its
 * outbox, and `GET /sessions` and `GET /usage` read it. Make it once and give the same value
 * to the server and the router, so both use the same bindings:
 * @example
 * import { d1Index } from "@durable-agents/cloudflare/d1";
 * const index = d1Index(); // INDEX_DB; d1Index({ shards: 3 }): INDEX_DB, INDEX_DB_1, INDEX_DB_2
 * export const AgentSession = createAgentServer({ agents, index });
 * export default { fetch: (request, env, ctx) => routeRequest(request, env, ctx, { index }) };
 * @throws RangeError at once for a bad `shards` count or list.
 */
export function d1Index(options: IndexOptions = {}): SessionIndex {
  if (options.shards !== undefined) shardBindings(options);
  const covers = (agent: string) => !options.agents || options.agents.includes(agent);
  return {
    options,
    covers,
    recordIdentity,
    extensions: (ctx) => (covers(ctx.agent) ? indexExtensions(options, ctx) : {}),
    serve: (request, env, { prices }) =>
      handleIndexRequest(request, env, { prices, index: options }),
  };
}
