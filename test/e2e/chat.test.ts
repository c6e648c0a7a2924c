/**
 * useChat, unmodified: the AI SDK's own Chat with `new DefaultChatTransport({ api })` and no
 * other option, against the quickstart under `wrangler dev`. Each case compares the client's
 * rebuilt UIMessages with the same conversation rebuilt from the ledger.
 */
import { rmSync } from "node:fs";
import { AgentChat, loadChatMessages } from "@durable-agents/client/chat";
import { lastAssistantMessageIsCompleteWithToolCalls, type UIMessage } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { comparable, type NodeChat, nodeChat, textOf } from "../support/node-chat.ts";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import { countingFetch, cuttableFetch, until } from "./chat-support.ts";
import {
  getJson,
  isTerminal,
  type LedgerEvent,
  readLedger,
  startQuickstart,
  tempState,
} from "./e2e-support.ts";

const state = tempState("e2e-usechat");
let dev: WranglerDev;
let counter = 0;

beforeAll(async () => {
  // Slow enough to act mid-answer: about 6 characters per 300 ms (a stop lands before the answer ends).
  dev = await startQuickstart(state, { SCRIPTED_DELAY_MS: "300" });
});
afterAll(async () => {
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
});

function chat(id = `chat-${Date.now()}-${++counter}`, messages: UIMessage[] = []) {
  return nodeChat(`${dev.baseUrl}/chat/assistant`, { id, messages });
}

/** The conversation as a reloaded page restores it (one GET .../chat-history). */
const restored = (id: string) => loadChatMessages(`${dev.baseUrl}/agents/assistant/${id}`);

/** The live chat's messages equal the restored ones. */
async function expectLedgerEquals(c: Pick<NodeChat, "id" | "messages">) {
  expect(comparable(c.messages)).toEqual(comparable(await restored(c.id)));
}

/** The quickstart's answer once its researcher sub-agent replied (examples/quickstart/src/model.ts). */
const RESEARCHED = (topic: string) =>
  new RegExp(`^The researcher says: Research notes on ${topic}: it is well documented`);

const status = (id: string) =>
  getJson<{ status: string; runId: string }>(`${dev.baseUrl}/agents/assistant/${id}/status`);

describe("useChat with DefaultChatTransport and no options", () => {
  it("sends two turns, with tool calls; the chat id is the session id", async () => {
    const c = chat();
    await c.sendMessage({ text: "What is (2+3)*4?" });
    expect(c.status).toBe("ready");
    await c.sendMessage({ text: "remember to buy milk" });
    expect(c.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(textOf(c.messages[1])).toBe("Let me calculate that. (2+3)*4 = 20.");
    expect(c.messages[1]?.parts).toContainEqual(
      expect.objectContaining({ type: "tool-calculator", state: "output-available" }),
    );
    expect(textOf(c.messages[3])).toMatch(/^Noted\./);
    expect((await status(c.id)).status).toBe("completed");
    await expectLedgerEquals(c);
  });

  it("a reload mid-answer resumes at GET .../stream: no duplicated or missing text", async () => {
    const net = cuttableFetch();
    const first = chat();
    const sent = first.sendMessage({ text: "hello there" });
    try {
      await until("some text", () => textOf(first.messages[1]).length > 20);
      net.cut(); // the page goes away: no stop()
      await sent;
    } finally {
      net.restore();
    }
    const cutAt = first.messages.map((m) => structuredClone(m));
    // The reloaded page: same chat id, the messages it had, then useChat's resume.
    const second = chat(first.id, cutAt);
    await second.resumeStream();
    expect(second.status).toBe("ready");
    expect(second.messages).toHaveLength(2);
    expect(textOf(second.messages[1])).toMatch(/^I am the scripted demo model\..*real model\.$/);
    expect((await status(first.id)).status).toBe("completed");
    await expectLedgerEquals(second);
    // Nothing running: the resume URL answers 204 and the chat stays as it is.
    const third = chat(first.id, second.messages);
    await third.resumeStream();
    expect(third.messages).toEqual(second.messages);
  });

  it("stop() stops the server run (interrupted, no more deltas); the partial answer is kept", async () => {
    const c = chat();
    const sent = c.sendMessage({ text: "hello again" });
    await until("some text", () => textOf(c.messages[1]).length > 10);
    await c.stop();
    await sent;
    const stopped = await until(
      "the run to be interrupted",
      async () => {
        const events = await readLedger(dev.baseUrl, c.id);
        return events.some((e) => e.kind === "run.interrupted") ? events : undefined;
      },
      20_000,
    );
    const interrupted = stopped.findIndex((e) => e.kind === "run.interrupted");
    expect(stopped.find((e) => e.kind === "run.interrupt_requested")?.data).toEqual({
      reason: "stopped by the chat client",
    });
    await new Promise((r) => setTimeout(r, 500));
    const later = await readLedger(dev.baseUrl, c.id);
    expect(later.slice(interrupted).filter((e) => e.kind === "model.delta")).toEqual([]);
    expect((await status(c.id)).status).toBe("interrupted");
    // The client kept what it had seen, a prefix of what the ledger kept.
    const kept = await restored(c.id);
    expect(textOf(kept[1]).startsWith(textOf(c.messages[1]))).toBe(true);
  });

  it("stop() then sendMessage() at once: the stopped run ends and the new message is answered (no 409)", async () => {
    const c = chat();
    const sent = c.sendMessage({ text: "hello again" });
    await until("some text", () => textOf(c.messages[1]).length > 10);
    const stoppedRun = c.messages[1]?.id;
    await c.stop();
    await sent;
    await c.sendMessage({ text: "What is 2+2?" });
    expect(c.error).toBeUndefined();
    expect(textOf(c.messages.at(-1))).toBe("Let me calculate that. 2+2 = 4.");
    const events = await readLedger(dev.baseUrl, c.id);
    const ended = events.find(
      (e) => e.runId === stoppedRun && (e.kind === "run.aborted" || e.kind === "run.interrupted"),
    );
    expect(ended).toBeDefined();
    expect((await status(c.id)).status).toBe("completed");
  });

  it("regenerate() answers the last turn again: the server's history equals the client's", async () => {
    const c = chat();
    await c.sendMessage({ text: "What is 2+2?" });
    const before = c.messages[1]?.id;
    await c.regenerate();
    expect(c.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(c.messages[1]?.id).not.toBe(before);
    expect(textOf(c.messages[1])).toBe("Let me calculate that. 2+2 = 4.");
    await expectLedgerEquals(c);
    const visible = await getJson<{ messages: { role: string }[] }>(
      `${dev.baseUrl}/agents/assistant/${c.id}/messages`,
    );
    expect(visible.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
  });

  it("approve and deny with addToolApprovalResponse; the waiting run resumes", async () => {
    for (const approved of [true, false]) {
      const c = chat();
      await c.sendMessage({ text: "remember the keys" });
      await c.sendMessage({ text: "clear my notes" });
      const part = c.messages[3]?.parts.find((p) => p.type === "tool-clear_notes") as
        | { state: string; approval?: { id: string } }
        | undefined;
      expect(part?.state).toBe("approval-requested");
      expect((await status(c.id)).status).toBe("waiting");
      await c.addToolApprovalResponse({ id: part?.approval?.id ?? "", approved });
      await c.sendMessage();
      expect(c.messages).toHaveLength(4);
      const answered = c.messages[3]?.parts.find((p) => p.type === "tool-clear_notes");
      expect(answered).toMatchObject(
        approved
          ? { state: "output-available", output: { deleted: 1 } }
          : { state: "output-denied" },
      );
      expect(textOf(c.messages[3])).toBe(
        approved
          ? "This needs your approval. Deleted 1 note(s)."
          : "This needs your approval. I left your notes alone.",
      );
      expect((await status(c.id)).status).toBe("completed");
      await expectLedgerEquals(c);
    }
  });

  it("a run that waits on a sub-agent streams on through the wait to the answer", async () => {
    const c = chat();
    await c.sendMessage({ text: "research durable objects" });
    expect(c.status).toBe("ready");
    expect(c.messages[1]?.parts).toContainEqual(
      expect.objectContaining({ type: "tool-research", state: "output-available" }),
    );
    expect(textOf(c.messages[1])).toMatch(RESEARCHED("durable objects"));
    expect((await status(c.id)).status).toBe("completed");
    await expectLedgerEquals(c);
  });

  it("a reload while the run waits on a sub-agent resumes at GET .../stream (the run is active)", async () => {
    const net = cuttableFetch();
    const first = chat();
    const sent = first.sendMessage({ text: "research durable streams" });
    try {
      await until("the run to wait on the researcher", async () =>
        (await status(first.id)).status === "waiting" ? true : undefined,
      );
      net.cut(); // the page goes away while the sub-agent works
      await sent;
    } finally {
      net.restore();
    }
    const second = chat(
      first.id,
      first.messages.map((m) => structuredClone(m)),
    );
    await second.resumeStream();
    expect(second.status).toBe("ready");
    expect(second.messages).toHaveLength(2);
    expect(textOf(second.messages[1])).toMatch(RESEARCHED("durable streams"));
    expect((await status(first.id)).status).toBe("completed");
    await expectLedgerEquals(second);
  });

  it("useAgentChat's load during a sub-agent wait leaves the active run to its resume, which streams it to the answer", async () => {
    const first = chat();
    const sent = first.sendMessage({ text: "research durable queues" });
    await until("the run to wait on the researcher", async () =>
      (await status(first.id)).status === "waiting" ? true : undefined,
    );
    // The conversation as loaded, in one request: the waiting run is active, so the resume
    // (a second request) brings its answer.
    const counted = countingFetch();
    let loaded: UIMessage[];
    const reloaded = new AgentChat({ agent: "assistant", id: first.id, baseUrl: dev.baseUrl });
    try {
      loaded = await restored(first.id);
      expect(counted.urls).toHaveLength(1);
      await reloaded.load();
    } finally {
      counted.restore();
    }
    expect(loaded.map((m) => m.role)).toEqual(["user"]);
    expect(counted.urls.slice(1).map((url) => new URL(url).pathname)).toEqual([
      `/agents/assistant/${first.id}/chat-history`,
      `/chat/assistant/${first.id}/stream`,
    ]);
    expect(reloaded.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(textOf(reloaded.messages[1])).toMatch(RESEARCHED("durable queues"));
    expect((await status(first.id)).status).toBe("completed");
    await expectLedgerEquals(reloaded);
    await sent;
  });

  it("a client-side tool result (addToolOutput) resumes the run with that output", async () => {
    const c = chat();
    await c.sendMessage({ text: "what time is it?" });
    const part = c.messages[1]?.parts.find((p) => p.type === "tool-browser_time") as
      | { state: string; toolCallId: string }
      | undefined;
    // A client-side tool: the call waits as input-available, no approval is asked.
    expect(part?.state).toBe("input-available");
    expect((await status(c.id)).status).toBe("waiting");
    await c.addToolOutput({
      tool: "browser_time",
      toolCallId: part?.toolCallId ?? "",
      output: { time: "2026-11-29T17:00:00+01:00", timeZone: "Europe/Paris" },
    } as never);
    await c.sendMessage();
    expect(textOf(c.messages[1])).toBe(
      "Your browser says it is 2026-11-29T17:00:00+01:00 (Europe/Paris).",
    );
    expect((await status(c.id)).status).toBe("completed");
    await expectLedgerEquals(c);
  });

  it("a client-side tool the usual AI SDK way (onToolCall, addToolOutput, sendAutomaticallyWhen) resumes the run", async () => {
    const output = { time: "2026-11-29T18:00:00+01:00", timeZone: "Europe/Paris" };
    const c: NodeChat = nodeChat(`${dev.baseUrl}/chat/assistant`, {
      id: `chat-${Date.now()}-${++counter}`,
      sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls,
      onToolCall: ({ toolCall }) => {
        if (toolCall.toolName !== "browser_time") return;
        void c.addToolOutput({
          tool: "browser_time",
          toolCallId: toolCall.toolCallId,
          output,
        } as never);
      },
    });
    await c.sendMessage({ text: "what time is it?" });
    // The automatic send answered the call and streamed the rest of the run.
    await until("the run to complete", async () =>
      (await status(c.id)).status === "completed" && c.status === "ready" ? true : undefined,
    );
    expect(c.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(c.messages[1]?.parts.find((p) => p.type === "tool-browser_time")).toMatchObject({
      state: "output-available",
      output,
    });
    expect(textOf(c.messages[1])).toBe(
      "Your browser says it is 2026-11-29T18:00:00+01:00 (Europe/Paris).",
    );
    await expectLedgerEquals(c);
  });

  it("stop() while the run waits on a sub-agent interrupts it at once and cancels the sub-agent's run", async () => {
    const c = chat();
    const sent = c.sendMessage({ text: "research durable objects" });
    await until("the run to wait on the researcher", async () =>
      (await status(c.id)).status === "waiting" ? true : undefined,
    );
    await c.stop();
    await sent;
    const events = await until(
      "the run to be interrupted",
      async () => {
        const ledger = await readLedger(dev.baseUrl, c.id);
        return ledger.some((e) => e.kind === "run.interrupted") ? ledger : undefined;
      },
      20_000,
    );
    const interrupted = events.findIndex((e) => e.kind === "run.interrupted");
    // Interrupted during the wait: the run never resumed, the sub-agent never answered it.
    expect(events.slice(0, interrupted).map((e) => e.kind)).not.toContain("subagent.completed");
    expect(events.slice(0, interrupted).map((e) => e.kind)).not.toContain("run.resumed");
    expect(events[interrupted]?.data).toEqual({ reason: "stopped by the chat client" });
    const child = events.find((e) => e.kind === "subagent.started")?.data as {
      agent: string;
      session: string;
    };
    const childLedger = () =>
      getJson<LedgerEvent[]>(
        `${dev.baseUrl}/agents/${child.agent}/${child.session}/events?offset=-1`,
      );
    const childEnd = await until(
      "the sub-agent's run to be cancelled",
      async () => (await childLedger()).find(isTerminal),
      20_000,
    );
    expect(childEnd.kind).toBe("run.aborted");
    expect((await status(c.id)).status).toBe("interrupted");
  });

  it("sendMessage({ text, files }): the user message's file parts start the run with them", async () => {
    const c = chat();
    const url =
      "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII=";
    await c.sendMessage({
      text: "What is 1+1?",
      files: [{ type: "file", mediaType: "image/png", url, filename: "dot.png" }],
    });
    expect(c.status).toBe("ready");
    const [started] = await readLedger(dev.baseUrl, c.id);
    expect(started).toMatchObject({
      kind: "run.started",
      data: {
        input: {
          message: "What is 1+1?",
          files: [{ type: "file", mediaType: "image/png", url, filename: "dot.png" }],
        },
      },
    });
    expect((await status(c.id)).status).toBe("completed");
    await expectLedgerEquals(c);
  });
});
