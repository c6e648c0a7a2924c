/**
 * The agents, sessions and request helpers of the rewind tests of the streams (the AI SDK
 * resume stream in src/http/chat/chat-resume-stream.test.ts, AG-UI in
 * src/http/agui-rewind.test.ts): runs that wait on a Workflow that never ends (active,
 * resumable), answering differently once `script.rewound` is set, so what a rewind took back
 * is told apart from what replaced it; and one reader of their SSE bodies. `crunch`, the
 * Workflow tool, is test/workflow-calls.test.ts's too.
 */
import { expect } from "vitest";
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
import { createTestSession, type TestSession } from "../src/testing/test-session.ts";

/** What the scripted models read: answer as after the rewind; the failer's model calls so far. */
export const script = { rewound: false, calls: 0 };

/** A tool run on a Workflow (`executor: "workflow"`); never executed in these tests. */
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
  wake: async () => undefined,
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

/** A cruncher session waiting on its Workflow, and the seq and run of its `run.started`. */
export async function waiting(): Promise<{ t: TestSession; seq: number; runId: string }> {
  script.rewound = false;
  const t = createTestSession(cruncher, { workflows });
  await t.runtime.start({ message: "go" });
  await t.drain();
  expect(t.runtime.status().status).toBe("waiting");
  const started = t.runtime.ledger.read(0).find((e) => e.kind === "run.started");
  if (!started?.runId) throw new Error("no run started");
  return { t, seq: started.seq, runId: started.runId };
}

/** Resumes the run from the checkpoint `seq`: it says "Again." and waits on a new call. */
export async function rewind(t: TestSession, seq: number): Promise<void> {
  script.rewound = true;
  const response = await call(t, "resume", "POST", {
    mode: "from_checkpoint",
    checkpoint: String(seq),
  });
  expect(response.status).toBe(202);
  await t.drain();
  expect(t.runtime.status().status).toBe("waiting");
}

/**
 * A failer session whose run failed and was retried from the start (`POST .../retry`): the
 * retried run says "Again." and waits on its Workflow.
 */
export async function retried(): Promise<TestSession> {
  script.rewound = false;
  script.calls = 0;
  const t = createTestSession(failer, { workflows });
  await t.runtime.start({ message: "go" });
  await t.drain();
  expect(t.runtime.status().status).toBe("failed");
  script.rewound = true;
  expect((await call(t, "retry", "POST", { mode: "from_start" })).status).toBe(202);
  await t.drain();
  expect(t.runtime.status().status).toBe("waiting");
  return t;
}

/** What an SseReader read: the JSON of each event's `data:` line, and its `id:` ("" if none). */
export interface SseReader<T> {
  readonly events: T[];
  readonly ids: string[];
  /**
   * Reads on until `stop` holds for the events read so far (checked after each event; a
   * `stop` that looks at `events.at(-1)` sees each event once), the body ends, or 200 reads
   * of the body; returns `events`. What it read past the stopping event is kept for the next call.
   */
  until(stop: (events: T[]) => boolean): Promise<T[]>;
  cancel(): Promise<void>;
}

/**
 * Reads an SSE body (the UI message stream's or AG-UI's) event by event, across calls: a
 * client connected across a rewind reads on where it stopped. The UI message stream's
 * `data: [DONE]` is no event.
 */
export function sseReader<T>(response: Response): SseReader<T> {
  const body = response.body;
  if (!body) throw new Error(`no body (status ${response.status})`);
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const events: T[] = [];
  const ids: string[] = [];
  let buffer = "";
  const until = async (stop: (events: T[]) => boolean): Promise<T[]> => {
    for (let reads = 0; ; reads++) {
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const lines = buffer.slice(0, end).split("\n");
        buffer = buffer.slice(end + 2);
        const data = lines.find((l) => l.startsWith("data: "));
        if (!data || data === "data: [DONE]") continue;
        events.push(JSON.parse(data.slice(6)) as T);
        ids.push(lines.find((l) => l.startsWith("id: "))?.slice(4) ?? "");
        if (stop(events)) return events;
      }
      if (reads === 200) return events;
      const { done, value } = await reader.read();
      if (done) return events;
      buffer += value;
    }
  };
  return { events, ids, until, cancel: () => reader.cancel().catch(() => undefined) };
}

/**
 * The events of `response`'s SSE body up to the one after which `stop` holds (their SSE ids
 * pushed to `ids`), then cancels the body.
 */
export async function readUntil<T>(
  response: Response,
  stop: (events: T[]) => boolean,
  ids: string[] = [],
): Promise<T[]> {
  const sse = sseReader<T>(response);
  try {
    return await sse.until(stop);
  } finally {
    ids.push(...sse.ids);
    await sse.cancel();
  }
}
