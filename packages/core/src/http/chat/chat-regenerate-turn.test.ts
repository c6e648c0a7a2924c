/**
 * Pinned by the outside review. ai v7's `Chat.regenerate()` (no argument) POSTs
 * `{ trigger: "regenerate-message", messages }` with NO `messageId` (seen on the wire with the
 * real `DefaultChatTransport`). The chat route then takes "the latest run" as the one to
 * replace (chat-routes.ts, `replaces = latest?.runId`), even when the latest run is another
 * client's turn still running: that run is aborted ("replaced: ..."), its user message leaves
 * the conversation, and the regenerating client's older user message is asked again.
 * Expected: the same 409 `not_latest_run` a regenerate naming the older answer gets (or at
 * least: the other turn is left alone).
 */
import { describe, expect, it } from "vitest";
import { httpContext, mathAgent } from "../../../test/fixtures.ts";
import { createTestSession } from "../../testing/test-session.ts";
import { handleSessionRequest } from "../session-handler.ts";

function chat(body: unknown): Request {
  return new Request("http://x/agents/math/s1/chat", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("chat: a regenerate without messageId while another client's turn runs", () => {
  it("does not abort and replace the other turn", async () => {
    const t = createTestSession(mathAgent);
    const u1 = { id: "u1", role: "user", parts: [{ type: "text", text: "question 1" }] };
    const first = await handleSessionRequest(
      chat({ id: "s1", messages: [u1], trigger: "submit-message" }),
      "chat",
      httpContext(t),
    );
    await first.body?.cancel();
    await t.drain();
    // Another tab sends the next message; its run is still going.
    const other = await t.runtime.start({ message: "question 2" });

    // This tab, whose last answer is the first run's, calls regenerate() (no messageId).
    const response = await handleSessionRequest(
      chat({ id: "s1", messages: [u1], trigger: "regenerate-message" }),
      "chat",
      httpContext(t),
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
      const r = await handleSessionRequest(
        chat({ id: "s1", messages, trigger: "submit-message" }),
        "chat",
        httpContext(t),
      );
      await r.body?.cancel();
      await t.drain();
    }
    const edited = { ...u1, parts: [{ type: "text", text: "question 1, edited" }] };
    const response = await handleSessionRequest(
      chat({ id: "s1", messages: [edited], trigger: "submit-message", messageId: "u1" }),
      "chat",
      httpContext(t),
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
});
