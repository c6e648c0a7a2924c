// bench/bundle's minimal agent Worker on Workflows: the agent has `executor: "workflow"` and
// one `executor: "workflow"` tool, and the Worker exports createAgentWorkflow and
// createToolWorkflow, which bring the Workflow executors' sides (workflow-run/host.ts and
// instances.ts, workflow-check.ts, the bindings' ports) that a Worker without them does not
// carry (npm run bench -- bundle-size; test/e2e's bundle test checks that this Worker carries
// them and the minimal one does not).
import {
  allowLocalDev,
  createAgentServer,
  createAgentWorkflow,
  createToolWorkflow,
  routeRequest,
} from "@durable-agents/cloudflare";
import { defineAgent, defineTool, scriptedModel } from "@durable-agents/core";
import * as z from "zod/mini";

const transcode = defineTool({
  name: "transcode",
  description: "Transcodes a video",
  input: z.object({ url: z.string() }),
  effect: "idempotent",
  executor: "workflow",
  execute: ({ url }, ctx) => ({ url, job: ctx.idempotencyKey }),
});

const echo = defineAgent({
  name: "echo",
  system: "You repeat.",
  model: scriptedModel({ turns: [{ text: "hello" }] }),
  tools: [transcode],
  maxSteps: 1,
  executor: "workflow",
});

export const AgentSession = createAgentServer({ agents: [echo], authorize: allowLocalDev() });
export const AgentWorkflow = createAgentWorkflow({ agents: [echo] });
export const ToolWorkflow = createToolWorkflow({ agents: [echo] });

export default {
  fetch: (request, env, ctx) => routeRequest(request, env, ctx, { server: AgentSession }),
} satisfies ExportedHandler<{ AGENTS: DurableObjectNamespace }>;
