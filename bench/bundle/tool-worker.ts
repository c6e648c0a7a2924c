// bench/bundle's minimal agent Worker with one tool (defineTool, a zod/mini input). The
// difference from minimal-worker.ts is what the tool-schema path costs, which a tool-less
// Worker does not carry: the AI SDK's asSchema (@ai-sdk/provider-utils: its zod 3 converter)
// and zod's toJSONSchema (npm run bench -- bundle-size; test/e2e's bundle test checks that
// this Worker carries them and the minimal one does not).
import { allowLocalDev, createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import { defineAgent, defineTool, scriptedModel } from "@durable-agents/core";
import * as z from "zod/mini";

const add = defineTool({
  name: "add",
  description: "Adds two numbers",
  input: z.object({ a: z.number(), b: z.number() }),
  effect: "pure",
  execute: ({ a, b }) => a + b,
});

const echo = defineAgent({
  name: "echo",
  system: "You add.",
  model: scriptedModel({ turns: [{ text: "hello" }] }),
  tools: [add],
  maxSteps: 1,
});

export const AgentSession = createAgentServer({ agents: [echo], authorize: allowLocalDev() });

export default {
  fetch: (request, env, ctx) => routeRequest(request, env, ctx, { server: AgentSession }),
} satisfies ExportedHandler<{ AGENTS: DurableObjectNamespace }>;
