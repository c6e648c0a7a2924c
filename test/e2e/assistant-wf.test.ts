/**
 * The quickstart's `assistant-wf` (the demo assistant on the Workflow executor) under
 * `wrangler dev`, driven by the real clients: the CLI, the client's SSE and WebSocket readers,
 * the AI SDK's `Chat` with `DefaultChatTransport`, and `@ag-ui/client`'s `HttpAgent`. Each run
 * is a Workflow instance; its status is read back from wrangler's local explorer API
 * (`/cdn-cgi/local/explorer/api/workflows/...`, what `wrangler workflows instances describe
 * --local` reads).
 */
import { rmSync } from "node:fs";
import { type BaseEvent, HttpAgent } from "@ag-ui/client";
import { type LedgerEvent as ClientEvent, createClient } from "@durable-agents/client";
import { loadChatMessages } from "@durable-agents/client/chat";
import { runInstanceId } from "@durable-agents/core";
import { lastAssistantMessageIsCompleteWithToolCalls } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { comparable, type NodeChat, nodeChat, textOf } from "../support/node-chat.ts";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import { until } from "./chat-support.ts";
import {
  getJson,
  isTerminal,
  type LedgerEvent,
  runCli,
  startQuickstart,
  tempState,
} from "./e2e-support.ts";

const AGENT = "assistant-wf";
/** The quickstart's Workflow (examples/quickstart/wrangler.jsonc, "workflows"). */
const WORKFLOW = "quickstart-agent-workflow";

const state = tempState("e2e-assistant-wf");
let dev: WranglerDev;
let counter = 0;

beforeAll(async () => {
  // 6 characters every 250 ms: the demo answer streams for ~14 s, longer than a cut chat
  // stream takes to stop its run (chat-presence.ts: the next failed write, then 5 s).
  dev = await startQuickstart(state, { SCRIPTED_DELAY_MS: "250" });
});
afterAll(async () => {
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
});

const newSession = (prefix: string) => `${prefix}-${Date.now()}-${++counter}`;
const root = (session: string) => `${dev.baseUrl}/agents/${AGENT}/${session}`;
const ledger = (session: string) => getJson<LedgerEvent[]>(`${root(session)}/events?offset=-1`);
/** The AI SDK's Chat on the quickstart's chat route for assistant-wf, no transport options. */
function chat(init: Omit<ConstructorParameters<typeof NodeChat>[0], "transport" | "id"> = {}) {
  return nodeChat(`${dev.baseUrl}/chat/${AGENT}`, { ...init, id: newSession("chat") });
}

const status = (session: string) =>
  getJson<{ status: string; runId: string }>(`${root(session)}/status`);

interface InstanceView {
  status: string;
  params: { agent: string; session: string; runId: string };
  output: unknown;
}

/** The run's Workflow instance as wrangler's local explorer shows it. */
async function instance(session: string, runId: string): Promise<InstanceView> {
  const id = await runInstanceId(AGENT, session, runId);
  const body = await getJson<{ result: InstanceView }>(
    `${dev.baseUrl}/cdn-cgi/local/explorer/api/workflows/${WORKFLOW}/instances/${id}`,
  );
  return body.result;
}

async function instanceReaches(session: string, runId: string, wanted: string) {
  return until(
    `instance of ${runId} to be ${wanted}`,
    async () => {
      const view = await instance(session, runId).catch(() => undefined);
      return view?.status === wanted ? view : undefined;
    },
    30_000,
  );
}

/** The ledger once the run has a terminal event, and still the same a moment later. */
async function settled(session: string): Promise<LedgerEvent[]> {
  const events = await until(
    `a terminal event in ${session}`,
    async () => {
      const all = await ledger(session);
      return all.some(isTerminal) ? all : undefined;
    },
    30_000,
  );
  await new Promise((r) => setTimeout(r, 1_000));
  expect(await ledger(session)).toEqual(events);
  return events;
}

describe("assistant-wf: the demo agent on the Workflow executor", () => {
  it("the README's `chat --agent assistant-wf` answers with the tool call; one Workflow instance ran the run", async () => {
    const result = await runCli(["chat", "--agent", AGENT, "What is 2+3?", "--url", dev.baseUrl]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('→ calculator({"expression":"2+3"})');
    expect(result.stdout).toContain("2+3 = 5");
    const session = result.stdout.match(/^session: (\S+)$/m)?.[1] ?? "";
    const events = await ledger(session);
    expect(events[0]).toMatchObject({
      kind: "run.started",
      data: { agent: AGENT, executor: "workflow" },
    });
    expect(events.at(-1)).toMatchObject({ kind: "run.completed", data: { output: "2+3 = 5." } });
    const view = await instanceReaches(session, events[0]?.runId ?? "", "complete");
    expect(view.params).toEqual({ agent: AGENT, session, runId: events[0]?.runId });
    expect(view.output).toEqual({ status: "completed" });

    // The same ledger over SSE, live from offset -1 (the client's reader).
    const sse: ClientEvent[] = [];
    const client = createClient({ baseUrl: dev.baseUrl });
    for await (const event of client.session(AGENT, session).events({ offset: "-1" })) {
      sse.push(event);
      if (event.seq === events.length) break;
    }
    expect(sse.map((e) => [e.seq, e.kind])).toEqual(events.map((e) => [e.seq, e.kind]));
  });

  it("over the WebSocket: start, the approval request, approve; the run completes in its instance", async () => {
    const session = newSession("ws");
    const live = createClient({ baseUrl: dev.baseUrl }).session(AGENT, session).connect();
    try {
      const { runId } = await live.start("clear my notes");
      const seen: ClientEvent[] = [];
      for await (const event of live) {
        seen.push(event);
        if (event.kind === "approval.requested") {
          expect((await status(session)).status).toBe("waiting");
          await live.approve(String(event.data.callId), true);
        }
        if (isTerminal(event as LedgerEvent)) break;
      }
      const kinds = seen.map((e) => e.kind);
      expect(kinds).toContain("approval.resolved");
      expect(seen.at(-1)).toMatchObject({
        kind: "run.completed",
        data: { output: "Deleted 0 note(s)." },
      });
      expect(kinds.filter((k) => k === "run.started")).toHaveLength(1);
      await instanceReaches(session, runId, "complete");
    } finally {
      live.close();
    }
  });

  it("the AI SDK Chat at /chat/assistant-wf: tools, the sub-agent and an approval", async () => {
    const c = chat();
    await c.sendMessage({ text: "What is (2+3)*4?" });
    expect(textOf(c.messages[1])).toBe("Let me calculate that. (2+3)*4 = 20.");
    await c.sendMessage({ text: "research durable objects" });
    expect(textOf(c.messages[3])).toMatch(
      /^The researcher says: Research notes on durable objects: it is well documented/,
    );
    await c.sendMessage({ text: "remember the keys" });
    await c.sendMessage({ text: "clear my notes" });
    const part = c.messages[7]?.parts.find((p) => p.type === "tool-clear_notes") as
      | { state: string; approval?: { id: string } }
      | undefined;
    expect(part?.state).toBe("approval-requested");
    expect((await status(c.id)).status).toBe("waiting");
    await c.addToolApprovalResponse({ id: part?.approval?.id ?? "", approved: true });
    await c.sendMessage();
    expect(textOf(c.messages[7])).toBe("This needs your approval. Deleted 1 note(s).");
    expect(c.error).toBeUndefined();
    expect(comparable(c.messages)).toEqual(
      comparable(await loadChatMessages(`${dev.baseUrl}/agents/${AGENT}/${c.id}`)),
    );
    // Every run of the conversation had its own instance, and each ran to its end.
    const runs = (await ledger(c.id)).filter((e) => e.kind === "run.started");
    expect(runs).toHaveLength(4);
    for (const run of runs) {
      expect(run.data.executor).toBe("workflow");
      await instanceReaches(c.id, run.runId, "complete");
    }
  });

  it("the AI SDK Chat: a client-side tool (onToolCall, addToolOutput, sendAutomaticallyWhen) resumes the run", async () => {
    const time = { time: "2026-11-29T18:00:00+01:00", timeZone: "Europe/Paris" };
    const c: NodeChat = chat({
      sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls,
      onToolCall: ({ toolCall }) => {
        if (toolCall.toolName !== "browser_time") return;
        void c.addToolOutput({
          tool: "browser_time",
          toolCallId: toolCall.toolCallId,
          output: time,
        } as never);
      },
    });
    await c.sendMessage({ text: "what time is it?" });
    await until("the run to complete", async () =>
      (await status(c.id)).status === "completed" && c.status === "ready" ? true : undefined,
    );
    expect(c.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(textOf(c.messages[1])).toBe(
      "Your browser says it is 2026-11-29T18:00:00+01:00 (Europe/Paris).",
    );
    expect(comparable(c.messages)).toEqual(
      comparable(await loadChatMessages(`${dev.baseUrl}/agents/${AGENT}/${c.id}`)),
    );
    await instanceReaches(c.id, (await status(c.id)).runId, "complete");
  });

  it("the AI SDK Chat's stop() interrupts the Workflow run mid-answer: no more deltas, the instance parks", async () => {
    const c = chat();
    const sent = c.sendMessage({ text: "hello again" });
    await until("some text", () => textOf(c.messages[1]).length > 10);
    await c.stop();
    await sent;
    const events = await settled(c.id);
    expect(events.at(-1)).toMatchObject({
      kind: "run.interrupted",
      data: { reason: "stopped by the chat client" },
    });
    expect((await status(c.id)).status).toBe("interrupted");
    // Interrupted is resumable: the instance waits for a wake, it did not finish.
    const view = await instance(c.id, events[0]?.runId ?? "");
    expect(["running", "waiting"]).toContain(view.status);
  });

  it("AG-UI's HttpAgent: the approval interrupt, then the resume run to the answer", async () => {
    const threadId = newSession("agui");
    const agent = new HttpAgent({
      url: `${root(threadId)}/agui`,
      threadId,
      initialMessages: [{ id: "u1", role: "user", content: "clear my notes" }],
    });
    type Finished = BaseEvent & {
      outcome?: { type: string; interrupts?: { id: string; reason: string }[] };
    };
    const run = async (params: Parameters<HttpAgent["runAgent"]>[0] = {}) => {
      const events: Finished[] = [];
      await agent.runAgent(params, { onEvent: ({ event }) => void events.push(event) });
      return events;
    };
    const first = await run();
    const interrupts = first.at(-1)?.outcome?.interrupts ?? [];
    expect(interrupts.map((i) => i.reason)).toEqual(["approval"]);
    const second = await run({
      resume: interrupts.map((i) => ({
        interruptId: i.id,
        status: "resolved" as const,
        payload: { approved: true },
      })),
    });
    expect(second.at(-1)?.outcome).toEqual({ type: "success" });
    expect(agent.messages.at(-1)?.content).toBe("Deleted 0 note(s).");
    const { runId } = await status(threadId);
    await instanceReaches(threadId, runId, "complete");
  });

  it("the CLI's interrupt mid-answer and resume: the same instance answers", async () => {
    const session = newSession("interrupt");
    const url = ["--url", dev.baseUrl];
    const client = createClient({ baseUrl: dev.baseUrl }).session(AGENT, session);
    const { runId } = await client.start("hello there");
    await until("some deltas", async () =>
      (await ledger(session)).some((e) => e.kind === "model.delta") ? true : undefined,
    );
    const interrupted = await runCli(["interrupt", `${AGENT}/${session}`, ...url]);
    expect(interrupted.code, interrupted.stderr).toBe(0);
    await until("the run to be interrupted", async () =>
      (await status(session)).status === "interrupted" ? true : undefined,
    );
    const resumed = await runCli(["resume", `${AGENT}/${session}`, ...url]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const events = await settled(session);
    expect(events.map((e) => e.kind)).toContain("run.interrupted");
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(new Set(events.map((e) => e.runId))).toEqual(new Set([runId]));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    await instanceReaches(session, runId, "complete");
  });

  it("the CLI's abort of a run waiting for approval terminates its instance; nothing follows run.aborted", async () => {
    const session = newSession("abort-wait");
    const url = ["--url", dev.baseUrl];
    const client = createClient({ baseUrl: dev.baseUrl }).session(AGENT, session);
    const { runId } = await client.start("clear my notes");
    await until("the approval request", async () =>
      (await status(session)).status === "waiting" ? true : undefined,
    );
    const aborted = await runCli(["abort", `${AGENT}/${session}`, ...url]);
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(aborted.stdout).toBe(`run ${runId}: aborted\n`);
    await instanceReaches(session, runId, "terminated");
    const events = await settled(session);
    expect(events.at(-1)?.kind).toBe("run.aborted");
    expect(events.map((e) => e.kind)).not.toContain("tool.started");
  });

  it("the CLI's abort mid-answer ends the run: run.aborted is the last event and its instance stops", async () => {
    const session = newSession("abort-answer");
    const client = createClient({ baseUrl: dev.baseUrl }).session(AGENT, session);
    const { runId } = await client.start("hello there");
    await until("some deltas", async () =>
      (await ledger(session)).some((e) => e.kind === "model.delta") ? true : undefined,
    );
    const aborted = await runCli(["abort", `${AGENT}/${session}`, "--url", dev.baseUrl]);
    expect(aborted.code, aborted.stderr).toBe(0);
    const events = await settled(session);
    expect(events.at(-1)?.kind).toBe("run.aborted");
    expect(events.map((e) => e.kind)).not.toContain("model.completed");
    // The instance either saw the abort itself (its decide answers "end aborted") or was
    // terminated first: finished either way, never running on.
    const view = await until("the instance to finish", async () => {
      const v = await instance(session, runId);
      return v.status === "complete" || v.status === "terminated" ? v : undefined;
    });
    if (view.status === "complete") expect(view.output).toEqual({ status: "aborted" });
  });

  it("the inspector offers assistant-wf", async () => {
    const html = await (await fetch(`${dev.baseUrl}/`)).text();
    const config = html.match(
      /<script id="config" type="application\/json">([^<]*)<\/script>/,
    )?.[1];
    expect(JSON.parse(config ?? "{}")).toEqual({
      agents: ["assistant", "assistant-wf", "researcher"],
    });
  });
});
