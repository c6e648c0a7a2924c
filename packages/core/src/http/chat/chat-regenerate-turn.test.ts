/**
 * A regenerate or an edit on the chat route changes only the turn the client's messages end
 * at (http/chat/chat-turn.ts). ai v7's `Chat.regenerate()` (no argument) POSTs
 * `{ trigger: "regenerate-message", messages }` with NO `messageId`, `messages` cut to end at
 * the user message answered again; `sendMessage({ text, messageId })` POSTs `submit-message`
 * with the edited user message's id, `messages` cut after it. The first two tests are the
 * outside review's (2026-11-30): on the old route a regenerate without `messageId` replaced
 * whatever run was latest (another tab's, still running), and an edit of an older user message
 * replaced the latest turn. Also here: an identical retried POST starts no second run, and a
 * start refused for a file part names the part the client sent.
 */
import { describe, expect, it } from "vitest";
import { httpContext, mathAgent } from "../../../test/fixtures.ts";
import { DEFAULT_LIVE_READ } from "../../streams/ledger-source.ts";
import { createTestSession, type TestSession } from "../../testing/test-session.ts";
import { chatRequestPath } from "../../wire/ui-stream/chat-request.ts";
import { errorResponse } from "../error-response.ts";
import { handleSessionRequest } from "../session-handler.ts";

/**
 * The chat route's answer as the Worker sends it: a refusal rendered as its error response.
 * The session's manual clock does not move by itself: each append is delivered, no window.
 */
function post(request: Request, t: TestSession): Promise<Response> {
  const ctx = httpContext(t, { live: { ...DEFAULT_LIVE_READ, windowMs: 0 } });
  return handleSessionRequest(request, "chat", ctx).catch((error: unknown) =>
    errorResponse(error, () => undefined),
  );
}

function chat(body: unknown): Request {
  return new Request("http://x/agents/math/s1/chat", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("chat: a regenerate or an edit changes only the turn the client's messages end at", () => {
  it("a regenerate without messageId while another client's turn runs does not abort and replace the other turn", async () => {
    const t = createTestSession(mathAgent);
    const u1 = { id: "u1", role: "user", parts: [{ type: "text", text: "question 1" }] };
    const first = await post(chat({ id: "s1", messages: [u1], trigger: "submit-message" }), t);
    await first.body?.cancel();
    await t.drain();
    // Another tab sends the next message; its run is still going.
    const other = await t.runtime.start({ message: "question 2" });

    // This tab, whose last answer is the first run's, calls regenerate() (no messageId).
    const response = await post(
      chat({ id: "s1", messages: [u1], trigger: "regenerate-message" }),
      t,
    );
    await response.body?.cancel();
    expect(response.status).toBe(409);
    // The other tab's run is still the session's run, not aborted and replaced.
    expect(t.runtime.status()).toMatchObject({ runId: other.runId, status: "running" });
  });

  it("an edit of an OLDER user message (sendMessage({ text, messageId })) does not replace the latest turn", async () => {
    // chat-request.ts: a submit whose messageId is the last (edited) message's id becomes a
    // regenerate without messageId, so whichever user message was edited, the LATEST run is
    // replaced. useChat drops everything after the edited message; the server keeps the
    // first turn and rewrites the second, so their histories diverge (seen against
    // wrangler dev with the real Chat: the history became [hello, answer, "edited first",
    // answer], and a run waiting for approval was aborted as "replaced").
    const t = createTestSession(mathAgent);
    const u1 = { id: "u1", role: "user", parts: [{ type: "text", text: "question 1" }] };
    const u2 = { id: "u2", role: "user", parts: [{ type: "text", text: "question 2" }] };
    for (const messages of [[u1], [u1, u2]]) {
      const r = await post(chat({ id: "s1", messages, trigger: "submit-message" }), t);
      await r.body?.cancel();
      await t.drain();
    }
    const edited = { ...u1, parts: [{ type: "text", text: "question 1, edited" }] };
    const response = await post(
      chat({ id: "s1", messages: [edited], trigger: "submit-message", messageId: "u1" }),
      t,
    );
    await response.body?.cancel();
    await t.drain();
    const page = await handleSessionRequest(
      new Request("http://x/agents/math/s1/messages"),
      "messages",
      httpContext(t),
    );
    const { messages } = (await page.json()) as {
      messages: { role: string; parts: { type: string; text?: string }[] }[];
    };
    const users = messages.filter((m) => m.role === "user").map((m) => m.parts[0]?.text);
    // Either refused (409, nothing changed) or the server's history is the client's.
    if (response.status === 409) expect(users).toEqual(["question 1", "question 2"]);
    else expect(users).toEqual(["question 1, edited"]);
  });

  it("a regenerate (no messageId) or an edit of the client's own latest turn replaces that turn", async () => {
    const t = createTestSession(mathAgent);
    const u1 = { id: "u1", role: "user", parts: [{ type: "text", text: "question 1" }] };
    const u2 = { id: "u2", role: "user", parts: [{ type: "text", text: "question 2" }] };
    const r1 = await post(chat({ id: "s1", messages: [u1], trigger: "submit-message" }), t);
    await r1.body?.cancel();
    await t.drain();
    const run1 = t.runtime.status().runId as string;
    const a1 = { id: run1, role: "assistant", parts: [{ type: "text", text: "answer" }] };
    const r2 = await post(chat({ id: "s1", messages: [u1, a1, u2], trigger: "submit-message" }), t);
    await r2.body?.cancel();
    await t.drain();
    const run2 = t.runtime.status().runId;

    const again = await post(
      chat({ id: "s1", messages: [u1, a1, u2], trigger: "regenerate-message" }),
      t,
    );
    expect(again.status).toBe(200);
    await again.body?.cancel();
    await t.drain();
    const run3 = t.runtime.status().runId;
    const edited = { ...u2, parts: [{ type: "text", text: "question 2, edited" }] };
    const edit = await post(
      chat({ id: "s1", messages: [u1, a1, edited], trigger: "submit-message", messageId: "u2" }),
      t,
    );
    expect(edit.status).toBe(200);
    await edit.body?.cancel();
    await t.drain();
    const starts = t.runtime.ledger.read(0).filter((e) => e.kind === "run.started");
    expect(starts.map((e) => e.data.replaces)).toEqual([undefined, undefined, run2, run3]);
    expect(await userTexts(t)).toEqual(["question 1", "question 2, edited"]);
  });

  it("a conversation restored from chat-history names the latest turn by the server's message id", async () => {
    const t = createTestSession(mathAgent);
    await t.runtime.start({ message: "question 1" });
    await t.drain();
    await t.runtime.start({ message: "question 2" });
    await t.drain();
    const page = await handleSessionRequest(
      new Request("http://x/agents/math/s1/chat-history"),
      "chat-history",
      httpContext(t),
    );
    const { turns } = (await page.json()) as {
      turns: { messages: { id: string; role: string; parts: unknown[] }[] }[];
    };
    // The restored chat's last user message, with no answer kept before it: its id says its turn.
    const [older, latest] = turns.map((turn) => turn.messages.at(-1));
    const regenerate = await post(
      chat({ id: "s1", messages: [latest], trigger: "regenerate-message" }),
      t,
    );
    expect(regenerate.status).toBe(200);
    await regenerate.body?.cancel();
    await t.drain();
    const refused = await post(
      chat({ id: "s1", messages: [older], trigger: "regenerate-message" }),
      t,
    );
    expect(refused.status).toBe(409);
    expect(await userTexts(t)).toEqual(["question 1", "question 2"]);
  });

  it("an identical POST sent again (a retry after a lost response) starts no second run: it gets the first run's stream", async () => {
    const t = createTestSession(mathAgent);
    const u1 = { id: "u1", role: "user", parts: [{ type: "text", text: "question 1" }] };
    const body = { id: "s1", messages: [u1], trigger: "submit-message" };
    const first = await post(chat(body), t);
    await first.body?.cancel();
    const runId = t.runtime.status().runId;
    const retried = await post(chat(body), t);
    expect(retried.status).toBe(200);
    const read = retried.text();
    await t.drain();
    const text = await read;
    expect(text).toContain(`"messageId":"${runId}"`);
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    const starts = t.runtime.ledger.read(0).filter((e) => e.kind === "run.started");
    expect(starts).toHaveLength(1);
    expect(await userTexts(t)).toEqual(["question 1"]);
  });

  it("a start refused for a file part names the part the client sent, not the run start's fields", async () => {
    const t = createTestSession(mathAgent);
    const parts = [
      { type: "text", text: "look" },
      { type: "file", mediaType: "image/png", url: "http://10.0.0.1/x" },
    ];
    const response = await post(
      chat({ id: "s1", messages: [{ id: "u1", role: "user", parts }], trigger: "submit-message" }),
      t,
    );
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as {
      error: { code: string; message: string; details: { issues: { path: string }[] } };
    };
    expect(error.code).toBe("invalid_request");
    expect(error.message).toMatch(/^the chat request is invalid: messages\.0\.parts\.1\.url: /);
    expect(error.message).not.toContain("input.");
    expect(error.details.issues.map((i) => i.path)).toEqual(["messages.0.parts.1.url"]);
    expect(t.runtime.ledger.read(0)).toEqual([]);
  });

  it("chatRequestPath maps every start path the chat route builds back to the request", () => {
    // messages[2] is the user message; its parts: text, file, text, file.
    const source = { messageIndex: 2, fileParts: [1, 3] };
    expect(chatRequestPath(source, "input.message")).toBe("messages.2.parts");
    expect(chatRequestPath(source, "input.files")).toBe("messages.2.parts");
    expect(chatRequestPath(source, "input.files.1")).toBe("messages.2.parts.3");
    expect(chatRequestPath(source, "input.files.0.data")).toBe("messages.2.parts.1.url");
    expect(chatRequestPath(source, "input.files.1.mediaType")).toBe("messages.2.parts.3.mediaType");
    expect(chatRequestPath(source, "input.files.0.filename")).toBe("messages.2.parts.1.filename");
    expect(chatRequestPath(source, "input.replaces")).toBe("input.replaces");
  });
});

async function userTexts(t: TestSession): Promise<(string | undefined)[]> {
  const page = await handleSessionRequest(
    new Request("http://x/agents/math/s1/messages"),
    "messages",
    httpContext(t),
  );
  const { messages } = (await page.json()) as {
    messages: { role: string; parts: { type: string; text?: string }[] }[];
  };
  return messages.filter((m) => m.role === "user").map((m) => m.parts[0]?.text);
}
