import { allowLocalDev, createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import { d1Index, type IndexDelivery, type IndexOptions } from "@durable-agents/cloudflare/d1";
import { defineAgent, scriptedModel } from "@durable-agents/core";
import { addThenAnswer, addTool } from "../fixtures/add-tool.ts";

/** A quickstart-sized run: one tool call, then an answer (two model calls, no delay). */
const agent = defineAgent({
  name: "scale",
  system: "Scale bench.",
  tools: [addTool],
  model: scriptedModel({
    turns: addThenAnswer("It is 5, the sum of 2 and 3."),
  }),
});

/**
 * What the objects saw, read by the bench at GET /__stats: when each run's completion hook
 * fired, and each index batch. Module state: under `wrangler dev` the Worker and its objects
 * share one isolate.
 */
const stats = {
  completed: [] as { session: string; at: number }[],
  delivered: [] as (IndexDelivery & { at: number })[],
};

const hooks = {
  onComplete: ({ session }: { session: string }) =>
    void stats.completed.push({ session, at: Date.now() }),
};
const index: IndexOptions = {
  onDelivered: (d) => void stats.delivered.push({ ...d, at: Date.now() }),
};
const common = { agents: [agent], authorize: allowLocalDev(), hooks };

export const IndexOff = createAgentServer({ ...common, binding: "OFF" });
export const IndexOn = createAgentServer({ ...common, binding: "ON", index: d1Index(index) });
/** The `faults` hook (before-d1-write) adds 200 ms to every D1 batch: a far D1 primary. */
export const IndexSlowD1 = createAgentServer({
  ...common,
  binding: "SLOW",
  index: d1Index({
    ...index,
    faults: async (point) => {
      if (point === "before-d1-write") await new Promise((r) => setTimeout(r, 200));
    },
  }),
});

type Env = Record<"OFF" | "ON" | "SLOW", DurableObjectNamespace> & Record<string, unknown>;

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__stats") {
      const body = Response.json(stats);
      if (request.method === "DELETE") {
        stats.completed = [];
        stats.delivered = [];
      }
      return body;
    }
    // /<mode>/agents/... → the session routes of that mode's server.
    const match = /^\/(off|on|slow)(\/.*)$/.exec(url.pathname);
    if (!match?.[1] || !match[2]) return new Response("not found", { status: 404 });
    const mode = match[1].toUpperCase() as "OFF" | "ON" | "SLOW";
    url.pathname = match[2];
    const server = { OFF: IndexOff, ON: IndexOn, SLOW: IndexSlowD1 }[mode];
    return routeRequest(new Request(url, request), { ...env, AGENTS: env[mode] }, ctx, { server });
  },
} satisfies ExportedHandler<Env>;
