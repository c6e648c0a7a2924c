/** GET .../chat-history: turns newest first by page, hidden runs left out, deltas merged, the query checked. */
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { httpContext, mathAgent } from "../../../test/fixtures.ts";
import { defineAgent, defineTool, scriptedModel } from "../../index.ts";
import { createTestSession } from "../../testing/test-session.ts";
import type { UiChunk } from "../../wire/ui-stream/ui-stream-projector.ts";
import { handleSessionRequest } from "../session-handler.ts";
import { type ChatHistoryPage, chatHistoryPage, chatHistoryQuery } from "./chat-history.ts";

type Session = ReturnType<typeof createTestSession>;

async function history(t: Session, query = ""): Promise<ChatHistoryPage> {
  const ctx = httpContext(t);
  const request = new Request(`http://x/agents/math/s1/chat-history${query}`);
  const response = await handleSessionRequest(request, "chat-history", ctx);
  expect(response.status).toBe(200);
  return (await response.json()) as ChatHistoryPage;
}

/**
 * The page the route builds for `query`, but within `maxBytes` instead of
 * LIMITS.maxChatHistoryBytes (4 MiB: megabytes of tool results to write and read back for
 * each test), and its size as the route sends it (`Response.json`).
 */
function pageWithin(
  t: Session,
  maxBytes: number,
  query: Record<string, string> = {},
): { page: ChatHistoryPage; bytes: number } {
  const page = chatHistoryPage(httpContext(t), chatHistoryQuery.parse(query), maxBytes);
  return { page, bytes: new TextEncoder().encode(JSON.stringify(page)).length };
}

/** The page budget of the paging tests: a few of bulky's turns. */
const PAGE_BYTES = 8 * 1024;

/** Says it saves, then asks a human to approve the payment. */
const payer = defineAgent({
  name: "payer",
  system: "You pay.",
  tools: [
    defineTool({
      name: "pay",
      description: "Pays an amount",
      input: z.object({ amount: z.number() }),
      effect: "irreversible",
      needsApproval: true,
      execute: ({ amount }) => ({ paid: amount }),
    }),
  ],
  model: scriptedModel({
    rules: [
      ({ turn }) =>
        turn === 0
          ? { text: `Saving (${turn}).`, toolCalls: [{ name: "pay", args: { amount: 5 } }] }
          : { text: "Paid." },
    ],
  }),
});

/** Each answer carries a tool result of 2 KB: about a quarter of PAGE_BYTES. */
const bulky = defineAgent({
  name: "bulky",
  system: "You fetch pages.",
  tools: [
    defineTool({
      name: "fetch_page",
      description: "Fetches a large page",
      input: z.object({}),
      effect: "pure",
      execute: () => "x".repeat(2_000),
    }),
  ],
  model: scriptedModel({
    rules: [
      ({ turn }) =>
        turn === 0 ? { toolCalls: [{ name: "fetch_page", args: {} }] } : { text: "Fetched." },
    ],
  }),
});

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

  it("keeps a page within its byte budget (maxChatHistoryBytes): fewer turns and a prevCursor, every turn reached by paging", async () => {
    const t = createTestSession(bulky);
    await turns(t, 12);
    const seen: string[][] = [];
    let before: Record<string, string> = {};
    let pages = 0;
    for (;;) {
      const { page, bytes } = pageWithin(t, PAGE_BYTES, { limit: "100", ...before });
      pages++;
      expect(bytes).toBeLessThanOrEqual(PAGE_BYTES);
      expect(page.turns.length).toBeGreaterThan(0);
      seen.unshift(...userText(page).map((m) => m.flat()));
      if (page.prevCursor === null) break;
      before = { before: page.prevCursor };
    }
    expect(pages).toBeGreaterThan(2);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => [`question ${i + 1}`]));
  });

  it("gives a turn over its byte budget (maxChatHistoryBytes) whole, alone in its page", async () => {
    // One answer with 5 results of 2 KB: 10 KB in one turn.
    const huge = createTestSession(
      defineAgent({
        ...bulky,
        model: scriptedModel({
          rules: [
            ({ turn }) =>
              turn === 0
                ? {
                    toolCalls: Array.from({ length: 5 }, () => ({
                      name: "fetch_page",
                      args: {},
                    })),
                  }
                : { text: "Fetched." },
          ],
        }),
      }),
    );
    await turns(huge, 2);
    const newest = pageWithin(huge, PAGE_BYTES, { limit: "100" });
    expect(newest.bytes).toBeGreaterThan(PAGE_BYTES);
    expect(userText(newest.page)).toEqual([["question 2"]]);
    expect(newest.page.turns[0]?.chunks?.at(-1)).toMatchObject({ type: "finish" });
    const before = newest.page.prevCursor ?? "";
    const older = pageWithin(huge, PAGE_BYTES, { limit: "100", before });
    expect(userText(older.page)).toEqual([["question 1"]]);
    expect(older.page.prevCursor).toBeNull();
  });

  it("shows a rewound run as its conversation does: what it said after the checkpoint is gone", async () => {
    const t = createTestSession(payer);
    await t.runtime.start({ message: "pay the bill" });
    await t.drain();
    expect(t.runtime.status().status).toBe("waiting");
    // Back to the run's start (its run.started, the ledger's first event, is checkpoint 1)
    // with a new message: POST .../resume, from_checkpoint.
    await t.runtime.resume({
      mode: "from_checkpoint",
      checkpoint: "1",
      message: "pay it, please",
    });
    await t.drain();
    const [turn] = (await history(t)).turns;
    expect(userText({ turns: turn ? [turn] : [], activeRunId: null, prevCursor: null })).toEqual([
      ["pay the bill", "pay it, please"],
    ]);
    const chunks = turn?.chunks as UiChunk[];
    // The messages projection hides the first attempt's step: one "Saving", one call.
    const texts = chunks.filter((c) => c.type === "text-delta").map((c) => c.delta);
    const calls = chunks.filter((c) => c.type === "tool-input-available");
    expect({ texts, calls: calls.length }).toEqual({ texts: ["Saving (0)."], calls: 1 });
  });
});
