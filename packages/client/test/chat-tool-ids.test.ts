/**
 * The AI SDK's own `Chat` (`AbstractChat` with a plain state: what `@ai-sdk/react`'s `Chat` is
 * with a React state) and the stock `DefaultChatTransport`, against the real session handler:
 * a client-side tool answered the usual AI SDK way (`onToolCall`, `addToolOutput`,
 * `sendAutomaticallyWhen`) in two runs of one chat. The Chat finds the part `addToolOutput`
 * answers by its `toolCallId` across all its messages, so tool call ids must not repeat
 * across a session's runs (as no real provider repeats them).
 */
import { lastAssistantMessageIsCompleteWithToolCalls } from "ai";
import { afterEach, describe, expect, it } from "vitest";
import { type NodeChat, nodeChat, textOf } from "../../../test/support/node-chat.ts";
import type { RealServer } from "./real-server.ts";
import { start, until } from "./support.ts";

let server: RealServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("the AI SDK Chat over two runs of one session", () => {
  it("answers a client-side tool in each run: each output lands in its own run's message", async () => {
    server = await start();
    const real = server;
    const session = "chat-ids";
    const times = ["09:00", "10:00"];
    let answered = 0;
    const chat: NodeChat = nodeChat(`${real.url}/agents/clock/${session}/chat`, {
      id: session,
      sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls,
      onToolCall: ({ toolCall }) => {
        const output = { time: times[answered++] };
        void chat.addToolOutput({ tool: "browser_time", toolCallId: toolCall.toolCallId, output });
      },
    });
    const completed = (runs: number) => () =>
      chat.status === "ready" &&
      real
        .session("clock", session)
        .runtime.ledger.read(0)
        .filter((e) => e.kind === "run.completed").length === runs;

    await chat.sendMessage({ text: "what time is it?" });
    await until("the first run to complete", completed(1));
    await chat.sendMessage({ text: "and what time is it now?" });
    await until("the second run to complete", completed(2));

    expect(chat.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect([textOf(chat.messages[1]), textOf(chat.messages[3])]).toEqual([
      "It is 09:00.",
      "It is 10:00.",
    ]);
    const parts = [chat.messages[1], chat.messages[3]].map((m) =>
      m?.parts.find((p) => p.type === "tool-browser_time"),
    );
    expect(parts).toMatchObject([
      { state: "output-available", output: { time: "09:00" } },
      { state: "output-available", output: { time: "10:00" } },
    ]);
    const ids = parts.map((p) => (p as { toolCallId: string }).toolCallId);
    expect(new Set(ids).size).toBe(2);
  });
});
