// bench/bundle's minimal agent Worker with the optional parts a Worker opts into: the D1
// index (d1Index() from @durable-agents/cloudflare/d1, given to the server; the router reads it from the server)
// and cron schedules (cronSchedules from @durable-agents/core/cron). The difference from
// minimal-worker.ts is what they cost (npm run bench -- bundle-size); test/e2e's bundle test
// checks that this Worker carries both and the minimal one neither.
import { allowLocalDev, createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import { d1Index } from "@durable-agents/cloudflare/d1";
import { defineAgent, defineTrigger, scriptedModel } from "@durable-agents/core";
import { cronSchedules } from "@durable-agents/core/cron";
import * as z from "zod/mini";

const echo = defineAgent({
  name: "echo",
  system: "You repeat.",
  model: scriptedModel({ turns: [{ text: "hello" }] }),
  tools: [],
  maxSteps: 1,
});

const nudge = defineTrigger({
  kind: "nudge",
  payload: z.object({}),
  run: (_, ctx) => void ctx.startRun("Go on."),
});

const index = d1Index();

export const AgentSession = createAgentServer({
  agents: [echo],
  authorize: allowLocalDev(),
  index,
  triggers: [nudge],
  cron: cronSchedules,
});

export default {
  fetch: (request, env, ctx) => routeRequest(request, env, ctx, { server: AgentSession }),
} satisfies ExportedHandler<{ AGENTS: DurableObjectNamespace }>;
