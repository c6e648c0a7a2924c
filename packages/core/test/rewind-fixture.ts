/**
 * The agents and request helper of the rewind tests of the streams (the AI SDK resume stream
 * in src/http/chat/chat-resume-stream.test.ts, AG-UI in src/http/agui-rewind.test.ts): runs
 * that wait on a Workflow that never ends (active, resumable), answering differently once
 * `script.rewound` is set, so what a rewind took back is told apart from what replaced it.
 */
import * as z from "zod";
import { TRUSTED_CALLER } from "../src/commands/caller.ts";
import { handleSessionRequest } from "../src/http/session-handler.ts";
import {
  defineAgent,
  defineTool,
  scriptedModel,
  TerminalError,
  type ToolWorkflowPort,
} from "../src/index.ts";
import { DEFAULT_LIVE_READ } from "../src/streams/ledger-source.ts";
import type { TestSession } from "../src/testing/test-session.ts";

/** What the scripted models read: answer as after the rewind; the failer's model calls so far. */
export const script = { rewound: false, calls: 0 };

export const crunch = defineTool({
  name: "crunch",
  description: "A long job",
  executor: "workflow",
  input: z.object({ n: z.number() }),
  effect: "idempotent",
  execute: ({ n }) => n * 2,
});

/** Says it crunches and delegates the call to a Workflow (never run here): the run waits. */
export const cruncher = defineAgent({
  name: "cruncher",
  system: "",
  tools: [crunch],
  model: scriptedModel({
    rules: [
      () => ({
        text: script.rewound ? "Again." : "Crunching.",
        toolCalls: [{ name: "crunch", args: { n: script.rewound ? 2 : 1 } }],
      }),
    ],
  }),
});

/**
 * Its first step echoes, its second call fails the run; retried, it crunches (a Workflow,
 * never run here: the run waits, active).
 */
export const failer = defineAgent({
  name: "failer",
  system: "",
  tools: [
    crunch,
    defineTool({
      name: "echo",
      description: "Echoes",
      input: z.object({ n: z.number() }),
      effect: "pure",
      execute: ({ n }) => n,
    }),
  ],
  model: scriptedModel({
    rules: [
      () => {
        script.calls++;
        if (script.rewound)
          return { text: "Again.", toolCalls: [{ name: "crunch", args: { n: 2 } }] };
        if (script.calls === 1)
          return { text: "Echoing.", toolCalls: [{ name: "echo", args: { n: 1 } }] };
        throw new TerminalError("model_error", "the provider refused (a test)");
      },
    ],
  }),
});

/** A Workflow that is created and never ends: the run stays waiting on it (active). */
export const workflows: ToolWorkflowPort = {
  create: async () => undefined,
  status: async () => ({ status: "running" }),
};

/** One session request (`action` as the router names it), trusted, delivered at once. */
export function call(
  t: TestSession,
  action: string,
  method = "GET",
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const ctx = {
    runtime: t.runtime,
    sql: t.sql,
    clock: t.clock,
    live: { ...DEFAULT_LIVE_READ, windowMs: 0 },
    caller: TRUSTED_CALLER,
  };
  const request = new Request(`http://x/agents/cruncher/s1/${action}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return handleSessionRequest(request, action, ctx);
}
