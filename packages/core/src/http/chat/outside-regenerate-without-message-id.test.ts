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
});
