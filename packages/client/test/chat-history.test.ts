/**
 * A reloaded chat restores its conversation in one request (`GET .../chat-history`), and the
 * AI SDK's own `Chat` (`nodeChat`, DefaultChatTransport) gets the same UIMessages from it as
 * the live streams gave: text, tool parts, approvals answered and one left waiting, a client's
 * tool output, an interrupted answer; the active run is left to the resume.
 */
import { afterEach, describe, expect, it } from "vitest";
import { comparable, nodeChat, textOf } from "../../../test/support/node-chat.ts";
import { AgentChat, loadChatHistory, loadChatMessages } from "../src/agent-chat.ts";
import { calculatorAgent, holdRuns, releaseHeld } from "./agents.ts";
import type { RealServer } from "./real-server.ts";
import { start, until } from "./support.ts";

let server: RealServer | undefined;
afterEach(async () => {
  releaseHeld();
  await server?.close();
  server = undefined;
});

/** What `fn` asked of the server: the paths of its requests. */
async function requestsOf<T>(real: RealServer, fn: () => Promise<T>): Promise<[T, string[]]> {
  const before = real.requests.length;
  const result = await fn();
  return [result, real.requests.slice(before).map((r) => `${r.method} ${r.path}`)];
}

const status = (real: RealServer, agent: string, session: string) =>
  real.session(agent, session).runtime.status().status;

describe("restoring a chat (loadChatMessages)", () => {
  it("rebuilds every turn as the live chat showed it, in one request for 1 turn or 12", async () => {
    server = await start();
    const real = server;
    const seen: number[] = [];
    for (const turns of [1, 12]) {
      const session = `many-${turns}`;
      const chat = nodeChat(`${real.url}/agents/assistant/${session}/chat`, { id: session });
      for (let i = 0; i < turns; i++) await chat.sendMessage({ text: `What is 2+3? (${i})` });
      expect(chat.messages).toHaveLength(2 * turns);
      const [restored, requests] = await requestsOf(real, () =>
        loadChatMessages(`${real.url}/agents/assistant/${session}`),
      );
      expect(comparable(restored)).toEqual(comparable(chat.messages));
      expect(restored[1]?.parts).toContainEqual(
        expect.objectContaining({ type: "tool-calculator", state: "output-available", output: 5 }),
      );
      seen.push(requests.length);
    }
    expect(seen).toEqual([1, 1]);
  });

  it("keeps approvals granted, denied and still asked, as the live streams left them", async () => {
    server = await start();
    const real = server;
    const session = "approvals";
    const chat = nodeChat(`${real.url}/agents/payer/${session}/chat`, { id: session });
    for (const approved of [true, false, undefined]) {
      await chat.sendMessage({ text: "pay the bill" });
      const part = chat.lastMessage?.parts.find((p) => p.type === "tool-pay") as
        | { state: string; approval?: { id: string } }
        | undefined;
      expect(part?.state).toBe("approval-requested");
      if (approved === undefined) break;
      await chat.addToolApprovalResponse({ id: part?.approval?.id ?? "", approved });
      await chat.sendMessage();
    }
    expect(status(real, "payer", session)).toBe("waiting");
    expect(textOf(chat.messages[1])).toBe('Saving.Result: {"paid":5}');
    const restored = await loadChatMessages(`${real.url}/agents/payer/${session}`);
    expect(comparable(restored)).toEqual(comparable(chat.messages));
    expect(restored.map((m) => m.parts.find((p) => p.type === "tool-pay"))).toMatchObject([
      undefined,
      { state: "output-available", approval: { approved: true } },
      undefined,
      { state: "output-denied", approval: { approved: false } },
      undefined,
      { state: "approval-requested" },
    ]);
    // The restored chat answers the waiting call as the live one would have.
    const reloaded = nodeChat(`${real.url}/agents/payer/${session}/chat`, {
      id: session,
      messages: restored,
    });
    const waiting = reloaded.lastMessage?.parts.find((p) => p.type === "tool-pay") as {
      approval: { id: string };
    };
    await reloaded.addToolApprovalResponse({ id: waiting.approval.id, approved: true });
    await reloaded.sendMessage();
    expect(status(real, "payer", session)).toBe("completed");
    const final = await loadChatMessages(`${real.url}/agents/payer/${session}`);
    expect(comparable(final)).toEqual(comparable(reloaded.messages));
  });

  it("keeps an interrupted answer as far as it went, then the next turn", async () => {
    server = await start({ agents: [calculatorAgent("slow", 15)] });
    const real = server;
    const session = "interrupted";
    const chat = nodeChat(`${real.url}/agents/slow/${session}/chat`, { id: session });
    const sent = chat.sendMessage({ text: "What is 2+3?" });
    await until("some text", () => textOf(chat.messages[1]).length >= 8);
    // The server stops the run; the chat's stream carries that to its end (an abort).
    const stop = await fetch(`${real.url}/agents/slow/${session}/interrupt`, { method: "POST" });
    expect(stop.status).toBe(202);
    await sent;
    expect(status(real, "slow", session)).toBe("interrupted");
    await chat.sendMessage({ text: "What is 2+3, then?" });
    expect(textOf(chat.messages[3])).toBe("Let me calculate.2 + 3 = 5.");
    const restored = await loadChatMessages(`${real.url}/agents/slow/${session}`);
    expect(textOf(restored[1])).not.toBe("Let me calculate.2 + 3 = 5.");
    expect(comparable(restored)).toEqual(comparable(chat.messages));
  });

  it("leaves the active run to the resume: AgentChat.load asks the history, then the stream", async () => {
    server = await start();
    const real = server;
    const session = "active";
    holdRuns();
    const chat = nodeChat(`${real.url}/agents/holder/${session}/chat`, { id: session });
    const sent = chat.sendMessage({ text: "hold on" });
    await until("the hold", () => textOf(chat.messages[1]) === "Holding.");
    const [history, requests] = await requestsOf(real, () =>
      loadChatHistory(`${real.url}/agents/holder/${session}`),
    );
    expect(requests).toEqual(["GET /agents/holder/active/chat-history?limit=100"]);
    expect(history.activeRunId).toBe(chat.messages[1]?.id);
    expect(history.messages.map((m) => [m.role, textOf(m)])).toEqual([["user", "hold on"]]);

    const reloaded = new AgentChat({ agent: "holder", id: session, baseUrl: real.url });
    const [, loads] = await requestsOf(real, async () => {
      const loading = reloaded.load();
      await until("the resume", () => textOf(reloaded.messages[1]) === "Holding.");
      releaseHeld();
      await loading;
    });
    expect(loads.map((path) => path.split("?")[0])).toEqual([
      "GET /agents/holder/active/chat-history",
      "GET /chat/holder/active/stream",
    ]);
    await sent;
    expect(textOf(reloaded.messages[1])).toBe("Holding.Done.");
    expect(comparable(reloaded.messages)).toEqual(comparable(chat.messages));
    const restored = await loadChatMessages(`${real.url}/agents/holder/${session}`);
    expect(comparable(restored)).toEqual(comparable(chat.messages));
  });

  it("says what was wrong when the server refuses the page", async () => {
    server = await start();
    const real = server;
    await expect(
      loadChatHistory(`${real.url}/agents/assistant/refused-page`, {}, { limit: 101 }),
    ).rejects.toMatchObject({
      name: "DurableAgentsClientError",
      status: 400,
      code: "invalid_request",
    });
  });
});
