import { allowLocalDev, createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import { defineAgent, scriptedModel } from "@durable-agents/core";

/** One long answer, streamed in small pieces: every piece is its own ledger event. */
const streamer = defineAgent({
  name: "streamer",
  system: "Fan-out bench.",
  model: scriptedModel({
    chunkSize: 8,
    delayMs: 2,
    turns: [{ text: "The quick brown fox jumps over the lazy dog; ".repeat(90) }],
  }),
});

export const AgentSession = createAgentServer({
  agents: [streamer],
  authorize: allowLocalDev(),
  // No coalescing: one model.delta per 8 characters, so the object fans out many small events.
  coalesce: { maxDelayMs: 0, maxChars: 1 },
  live: { sseMaxMs: 300_000 },
});

export { FanoutFloor } from "./floor.ts";

interface Env {
  AGENTS: DurableObjectNamespace;
  FLOOR: DurableObjectNamespace;
}

export default {
  fetch(request, env, ctx) {
    // /floor/:name/...: the send floor (floor.ts), no durable-agents code.
    const floor = /^\/floor\/([^/]+)\//.exec(new URL(request.url).pathname);
    if (floor?.[1]) return env.FLOOR.get(env.FLOOR.idFromName(floor[1])).fetch(request);
    return routeRequest(request, env, ctx, { server: AgentSession });
  },
} satisfies ExportedHandler<Env>;
