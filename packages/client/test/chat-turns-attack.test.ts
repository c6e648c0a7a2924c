/** Review probe (chatattack): regenerate after a client-side tool round, with the real Chat. */
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

describe("attack: client-side tool round then regenerate", () => {
  it("regenerate() after addToolOutput replaces the latest turn", async () => {
    server = await start();
    const real = server;
    const session = "chat-attack";
    let n = 0;
    const chat: NodeChat = nodeChat(`${real.url}/agents/clock/${session}/chat`, {
      id: session,
      sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls,
      onToolCall: ({ toolCall }) => {
        void chat.addToolOutput({
          tool: "browser_time",
          toolCallId: toolCall.toolCallId,
          output: { time: `0${n++}:00` },
        });
      },
    });
    const events = () => real.session("clock", session).runtime.ledger.read(0);
    const ended = (k: number) => () =>
      chat.status === "ready" && events().filter((e) => e.kind === "run.completed").length === k;
    await chat.sendMessage({ text: "what time is it?" });
    await until("first", ended(1));
    await chat.sendMessage({ text: "and now?" });
    await until("second", ended(2));
    await chat.regenerate();
    expect(chat.error?.message).toBeUndefined();
    await until("third", ended(3));
    const starts = events().filter((e) => e.kind === "run.started");
    expect(starts).toHaveLength(3);
    expect(starts[2]?.data).toMatchObject({ replaces: starts[1]?.runId });
    expect(textOf(chat.lastMessage)).toMatch(/It is/);
  });
});
