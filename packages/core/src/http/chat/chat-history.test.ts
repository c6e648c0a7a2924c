/** GET .../chat-history: turns newest first by page, hidden runs left out, deltas merged, the query checked. */
import { describe, expect, it } from "vitest";
import { mathAgent } from "../../../test/fixtures.ts";
import { TRUSTED_CALLER } from "../../commands/caller.ts";
import { DEFAULT_LIVE_READ } from "../../streams/ledger-source.ts";
import { createTestSession } from "../../testing/test-session.ts";
import type { UiChunk } from "../../wire/ui-stream/ui-stream-projector.ts";
import { handleSessionRequest } from "../session-handler.ts";
import type { ChatHistoryPage } from "./chat-history.ts";

type Session = ReturnType<typeof createTestSession>;

async function history(t: Session, query = ""): Promise<ChatHistoryPage> {
  const ctx = {
    runtime: t.runtime,
    sql: t.sql,
    clock: t.clock,
    live: DEFAULT_LIVE_READ,
    caller: TRUSTED_CALLER,
  };
  const request = new Request(`http://x/agents/math/s1/chat-history${query}`);
  const response = await handleSessionRequest(request, "chat-history", ctx);
  expect(response.status).toBe(200);
  return (await response.json()) as ChatHistoryPage;
}

const userText = (page: ChatHistoryPage) =>
  page.turns.map((t) =>
    t.messages.map((m) => m.parts.map((p) => (p.type === "text" ? p.text : "")).join("")),
  );

async function turns(t: Session, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) {
    await t.runtime.start({ message: `question ${i}` });
    await t.drain();
  }
}

describe("GET .../chat-history", () => {
  it("pages back from the newest turn to the first, each page oldest first", async () => {
    const t = createTestSession(mathAgent);
    await turns(t, 7);
    const newest = await history(t, "?limit=3");
    expect(userText(newest)).toEqual([["question 5"], ["question 6"], ["question 7"]]);
    const seen = [...newest.turns];
    let prev = newest.prevCursor;
    while (prev !== null) {
      const page = await history(t, `?before=${prev}&limit=3`);
      seen.unshift(...page.turns);
      prev = page.prevCursor;
    }
    expect(seen.map((turn) => turn.messages[0]?.parts[0])).toEqual(
      Array.from({ length: 7 }, (_, i) => ({ type: "text", text: `question ${i + 1}` })),
    );
    expect(newest.activeRunId).toBeNull();
  });

  it("gives each run's whole UI message stream, with a delta per text part and step", async () => {
    const t = createTestSession(mathAgent);
    await turns(t, 1);
    const [turn] = (await history(t)).turns;
    const chunks = turn?.chunks as UiChunk[];
    expect(chunks[0]).toEqual({ type: "start", messageId: turn?.runId });
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    // chunkSize 3 streamed "Let me add." in four deltas: one merged delta here.
    expect(chunks.filter((c) => c.type === "text-delta").map((c) => c.delta)).toEqual([
      "Let me add.",
      "The answer is 5.",
    ]);
    expect(chunks).toContainEqual(expect.objectContaining({ type: "tool-output-available" }));
  });

  it("leaves out a run a regenerate replaced, and the active run's chunks", async () => {
    const t = createTestSession(mathAgent);
    await turns(t, 1);
    const first = (await history(t)).turns[0]?.runId as string;
    await t.runtime.start({ message: "question 1 again", replaces: first });
    await t.drain();
    const after = await history(t);
    expect(userText(after)).toEqual([["question 1 again"]]);
    expect(after.turns[0]?.runId).not.toBe(first);

    const { runId } = await t.runtime.start({ message: "question 2" });
    const live = await history(t);
    expect(live.activeRunId).toBe(runId);
    expect(live.turns.at(-1)).toEqual({
      runId,
      messages: [
        { id: expect.any(String), role: "user", parts: [{ type: "text", text: "question 2" }] },
      ],
      chunks: null,
    });
    await t.drain();
  });

  it("lists a run's user messages: those its start handed in, then its own", async () => {
    const t = createTestSession(mathAgent);
    await t.runtime.start({
      message: "and now?",
      messages: [
        { role: "user", content: "earlier question" },
        { role: "assistant", content: "earlier answer" },
      ],
    });
    await t.drain();
    const [turn] = (await history(t)).turns;
    expect(turn?.messages.map((m) => [m.id.replace(/\d+/, "<seq>"), m.parts])).toEqual([
      ["m<seq>.0", [{ type: "text", text: "earlier question" }]],
      ["m<seq>", [{ type: "text", text: "and now?" }]],
    ]);
  });

  it("refuses a bad before or limit with 400 invalid_request", async () => {
    const t = createTestSession(mathAgent);
    for (const query of ["?before=x", "?limit=0", "?limit=101", "?limit=2.5"])
      await expect(history(t, query)).rejects.toMatchObject({
        status: 400,
        code: "invalid_request",
      });
    expect(await history(t)).toEqual({ turns: [], activeRunId: null, prevCursor: null });
  });
});
