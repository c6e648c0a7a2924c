import { DurableObject } from "cloudflare:workers";
import { allowLocalDev, createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import { defineAgent, scriptedModel } from "@durable-agents/core";
import { addThenAnswer, addTool } from "../fixtures/add-tool.ts";

/** A quickstart-sized run: one tool call, then an answer. */
const agent = defineAgent({
  name: "mem",
  system: "Memory bench.",
  tools: [addTool],
  model: scriptedModel({
    turns: addThenAnswer("It is 5."),
  }),
});

export const AgentSession = createAgentServer({ agents: [agent], authorize: allowLocalDev() });

/** A Durable Object with no durable-agents code: a table, a row, a read. */
export class BareObject extends DurableObject {
  override fetch(): Response {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)");
    sql.exec("INSERT INTO t (v) VALUES (?)", "touched");
    return Response.json(sql.exec("SELECT count(*) AS n FROM t").one());
  }
}

type Env = { AGENTS: DurableObjectNamespace; BARE: DurableObjectNamespace };

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    const bare = /^\/bare\/(.+)$/.exec(url.pathname);
    if (bare?.[1]) return env.BARE.get(env.BARE.idFromName(bare[1])).fetch(request);
    return routeRequest(request, env, ctx, { server: AgentSession });
  },
} satisfies ExportedHandler<Env>;
