/** A request the server refuses (4xx) leaves `messages` as they were before it. */
import type { UIMessage } from "ai";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AgentChat } from "../src/agent-chat.ts";

afterEach(() => vi.unstubAllGlobals());

function refusing(status: number, message: string) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => Response.json({ error: { code: "refused", message } }, { status })),
  );
}

const text = (id: string, role: "user" | "assistant", t: string): UIMessage => ({
  id,
  role,
  parts: [{ type: "text", text: t }],
});

describe("AgentChat: a refusal takes nothing the server kept out of messages", () => {
  it("a regenerate refused with 413 keeps the assistant answer in messages", async () => {
    refusing(413, "too large; send a new message instead");
    const chat = new AgentChat({ agent: "a", id: "s1", baseUrl: "http://x" });
    chat.store.messages = [text("u1", "user", "hi"), text("a1", "assistant", "hello")];
    await chat.regenerate();
    expect(chat.error?.message).toContain("send a new message instead");
    // The server kept run a1's answer ("the answer stays"): the UI still shows it.
    expect(chat.messages.map((m) => m.id)).toEqual(["u1", "a1"]);
  });

  it("an edit refused with 409 keeps the edited message and every later one", async () => {
    refusing(409, "a run is active; wait for it or stop it");
    const chat = new AgentChat({ agent: "a", id: "s1", baseUrl: "http://x" });
    const before = [
      text("u1", "user", "hi"),
      text("a1", "assistant", "hello"),
      text("u2", "user", "more"),
      text("a2", "assistant", "sure"),
    ];
    chat.store.messages = before;
    await chat.sendMessage({ text: "hi again", messageId: "u1" });
    expect(chat.error?.message).toContain("a run is active");
    expect(chat.messages).toEqual(before);
  });

  it("a new message refused with 409 is taken back out", async () => {
    refusing(409, "a run is active; wait for it or stop it");
    const chat = new AgentChat({ agent: "a", id: "s1", baseUrl: "http://x" });
    chat.store.messages = [text("u1", "user", "hi"), text("a1", "assistant", "hello")];
    await chat.sendMessage({ text: "next" });
    expect(chat.messages.map((m) => m.id)).toEqual(["u1", "a1"]);
  });
});
