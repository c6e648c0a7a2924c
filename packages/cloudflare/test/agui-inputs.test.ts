import { HttpAgent, type Message } from "@ag-ui/client";
import { LIMITS } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { isTerminal, type SessionHandle, session } from "./support/session.ts";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII=";

function agent(s: SessionHandle, messages: Message[]): HttpAgent {
  return new HttpAgent({
    url: s.url("agui"),
    threadId: s.session,
    fetch: (url, init) => s.fetch(url, init),
    initialMessages: messages,
  });
}

interface Refusal {
  status?: number;
  payload?: { error: { code: string; message: string; details?: { issues?: unknown[] } } };
}

/** Runs the agent, expecting the POST refused; the refusal HttpAgent throws (`HTTP 400: ...`). */
async function refusal(a: HttpAgent): Promise<Refusal> {
  const error = (await a.runAgent().then(
    () => expect.fail("the RunAgentInput was accepted"),
    (e: unknown) => e,
  )) as Refusal;
  expect(error.status).toBe(400);
  return error;
}

describe("AG-UI user messages with media parts (HttpAgent)", () => {
  it("an image or document part of the user message becomes a file of the run's start", async () => {
    const s = session("chatty");
    const a = agent(s, [
      {
        id: "u1",
        role: "user",
        content: [
          { type: "text", text: "What are these?" },
          { type: "image", source: { type: "data", value: PNG, mimeType: "image/png" } },
          {
            type: "document",
            source: {
              type: "url",
              value: "https://example.com/a.pdf",
              mimeType: "application/pdf",
            },
          },
        ],
      },
    ]);
    await a.runAgent();
    await s.waitFor(isTerminal);
    const [first] = await s.events();
    expect(first?.kind === "run.started" && first.data.input).toEqual({
      message: "What are these?",
      files: [
        { type: "file", mediaType: "image/png", url: `data:image/png;base64,${PNG}` },
        { type: "file", mediaType: "application/pdf", url: "https://example.com/a.pdf" },
      ],
    });
  });

  it("MESSAGES_SNAPSHOT gives the user message back with its media parts, as AG-UI content parts", async () => {
    const s = session("chatty");
    const content: Extract<Message, { role: "user" }>["content"] = [
      { type: "text", text: "What are these?" },
      { type: "image", source: { type: "data", value: PNG, mimeType: "image/png" } },
      {
        type: "document",
        source: { type: "url", value: "https://example.com/a.pdf", mimeType: "application/pdf" },
      },
    ];
    const a = agent(s, [{ id: "u1", role: "user", content }]);
    await a.runAgent();
    await s.waitFor(isTerminal);
    // HttpAgent keeps only what the snapshot lists: the user's own parts must be in it.
    const user = a.messages.find((m) => m.role === "user");
    expect(user?.content).toEqual(content);
    // A later run's snapshot lists that message the same way.
    const next = agent(s, [...a.messages, { id: "u2", role: "user", content: "and now?" }]);
    await next.runAgent();
    await s.waitFor(isTerminal);
    expect(next.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual([
      content,
      "and now?",
    ]);
  });

  it("a start refusal names the RunAgentInput's fields, not the start's, and starts nothing", async () => {
    const s = session("chatty");
    const cases: [Message["content"], { path: string; message: RegExp }][] = [
      [
        [
          { type: "text", text: "look" },
          { type: "image", source: { type: "data", value: "%%%", mimeType: "image/png" } },
        ],
        { path: "messages.1.content.1.source.value", message: /base64/ },
      ],
      [
        [
          { type: "text", text: "look" },
          { type: "image", source: { type: "url", value: "https://x.test/a.png" } },
          { type: "document", source: { type: "url", value: "https://x.test/a.pdf" } },
        ],
        { path: "messages.1.content.2.source.mimeType", message: /media type/ },
      ],
      [
        [
          { type: "text", text: "look" },
          { type: "image", source: { type: "url", value: "ftp://x.test/a.png" } },
        ],
        { path: "messages.1.content.1.source.value", message: /https URL/ },
      ],
      ["x".repeat(LIMITS.maxMessageChars + 1), { path: "messages.1.content", message: /Too big/ }],
    ];
    for (const [content, issue] of cases) {
      const a = agent(s, [
        { id: "d1", role: "developer", content: "Be brief." },
        { id: "u1", role: "user", content } as Message,
      ]);
      const { payload } = await refusal(a);
      expect(payload?.error.code).toBe("invalid_request");
      expect(payload?.error.details?.issues).toEqual([
        { path: issue.path, message: expect.stringMatching(issue.message) },
      ]);
      expect(payload?.error.message).toContain(`the RunAgentInput is invalid: ${issue.path}: `);
      expect(payload?.error.message).not.toContain("input.");
    }
    expect(await s.events()).toEqual([]);
  });

  it("a provider file handle (source type file) is refused by its path", async () => {
    const s = session("chatty");
    const a = agent(s, [
      {
        id: "u1",
        role: "user",
        content: [
          { type: "text", text: "look" },
          { type: "image", source: { type: "file", value: "file-abc123", provider: "openai" } },
        ],
      },
    ]);
    const { payload } = await refusal(a);
    expect(payload?.error.details?.issues).toEqual([
      { path: "messages.0.content.1.source.type", message: expect.stringMatching(/data or url/) },
    ]);
    expect(await s.events()).toEqual([]);
  });
});

describe("AG-UI request size (HttpAgent sends the whole conversation)", () => {
  it("a conversation past the 64 KiB command limit still starts a run, as useChat's does", async () => {
    const s = session("chatty");
    // 40 earlier turns of ~3 KiB each: ~120 KiB of RunAgentInput, under the chat limit.
    const history: Message[] = [];
    for (let i = 0; i < 40; i++) {
      history.push({ id: `u${i}`, role: "user", content: `question ${i} ${"x".repeat(1500)}` });
      history.push({ id: `a${i}`, role: "assistant", content: `answer ${i} ${"y".repeat(1500)}` });
    }
    const a = agent(s, [...history, { id: "last", role: "user", content: "hello again" }]);
    expect(JSON.stringify(a.messages).length).toBeGreaterThan(LIMITS.maxBodyBytes);
    await a.runAgent();
    await s.waitFor(isTerminal);
    const [first] = await s.events();
    expect(first?.kind === "run.started" && first.data.input.message).toBe("hello again");
  });
});
