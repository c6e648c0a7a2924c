// Tools on Cloudflare Workflows whose instances are in flight when wrangler dev is killed and
// started again, for test/e2e/tool-workflow-restart.test.ts. Each step of a call's instance
// writes a line to the log, so the test can count what ran in both processes together.

import { env } from "cloudflare:workers";
import {
  allowLocalDev,
  createAgentServer,
  createToolWorkflow,
  routeRequest,
} from "@durable-agents/cloudflare";
import { defineAgent, defineTool, scriptedModel } from "@durable-agents/core";
import * as z from "zod";

const mark = (what: string, key: string) => console.warn(`tool-workflow-restart ${what} ${key}`);

/** Takes `ms` milliseconds: long enough to kill wrangler dev in it. Its admit is a step of its own. */
const transcode = defineTool({
  name: "transcode",
  description: "Transcodes a video; takes a while",
  input: z.object({ ms: z.number() }),
  effect: "idempotent",
  executor: "workflow",
  admit: (_input, ctx) => {
    mark("admit", ctx.idempotencyKey);
    return { admitted: true };
  },
  execute: async ({ ms }, ctx) => {
    mark("execute", ctx.idempotencyKey);
    await new Promise((settle) => setTimeout(settle, ms));
    mark("executed", ctx.idempotencyKey);
    return { job: ctx.idempotencyKey };
  },
});

/** Always throws: its instance waits out a retry's backoff (4 s) between its two attempts. */
const flaky = defineTool({
  name: "flaky",
  description: "A service that is down",
  input: z.object({}),
  effect: "idempotent",
  executor: "workflow",
  execute: async (_input, ctx) => {
    mark("flaky", ctx.idempotencyKey);
    throw new Error("the service is down");
  },
});

/** "flaky" calls flaky; a number calls transcode for that many milliseconds. */
const editor = defineAgent({
  name: "editor",
  system: "You edit videos.",
  tools: [transcode, flaky],
  model: scriptedModel({
    rules: [
      ({ userText, turn, toolResults }) =>
        turn > 0
          ? { text: `Done: ${JSON.stringify(toolResults[0]?.output)}` }
          : userText === "flaky"
            ? { toolCalls: [{ name: "flaky", args: {} }] }
            : { toolCalls: [{ name: "transcode", args: { ms: Number(userText) } }] },
    ],
  }),
});

// The check that reads the instance's status: every CHECK_MS (`--var`), else the default (15 minutes).
const checkMs = (env as { CHECK_MS?: string }).CHECK_MS;
export const AgentSession = createAgentServer({
  agents: [editor],
  authorize: allowLocalDev(),
  toolWorkflowCheckMs: checkMs === undefined ? undefined : Number(checkMs),
});
export const ToolWorkflow = createToolWorkflow({
  agents: [editor],
  execute: { retries: { limit: 1, delay: "4 seconds", backoff: "constant" }, timeout: "1 minute" },
});

export default {
  fetch: (request, env, ctx) => routeRequest(request, env, ctx, { server: AgentSession }),
} satisfies ExportedHandler<{ AGENTS: DurableObjectNamespace }>;
