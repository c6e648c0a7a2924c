import { evictDurableObject } from "cloudflare:test";
import type { LedgerEvent } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { type SessionHandle, session } from "./support/session.ts";

/** Starts a run and waits for its answer (the fixture's answer says what the model was sent). */
async function ask(s: SessionHandle, message: string): Promise<string> {
  const started = await s.post("runs", { input: { message } });
  expect(started.status).toBe(202);
  const { runId } = (await started.json()) as { runId: string };
  const done = await s.waitFor((e) => e.kind === "run.completed" && e.runId === runId, 20_000);
  return String((done as LedgerEvent<"run.completed">).data.output);
}

/**
 * Context compaction on DO SQLite (fixture agent `compactor`: keep 2, compact after 4, the
 * default summarizer on its own scripted model): the model is sent the summary and the kept
 * tail, also by an object woken after an eviction; clients still read every message.
 */
describe("context compaction in a Durable Object", () => {
  it("sends the summary and the tail, after a wake too; the conversation keeps every message", async () => {
    const s = session("compactor");
    expect(await ask(s, "one")).toBe("sent 2: one");
    expect(await ask(s, "two")).toBe("sent 4: one | two");
    // 5 messages: "one" and its answer are summarized; the tail starts at "two".
    const summary = "Summary of the earlier conversation:\n\nthe summary";
    expect(await ask(s, "three")).toBe(`sent 5: ${summary} | two | three`);
    await evictDurableObject(s.stub());
    // The woken object loads the compaction and its tail, then compacts again (5 messages).
    expect(await ask(s, "four")).toBe(`sent 5: ${summary} | three | four`);

    const events = await s.events();
    const compactions = events.filter((e) => e.kind === "context.compacted");
    expect(compactions.map((e) => e.data)).toMatchObject([
      { step: 1, summary: "the summary", messages: 2, model: "scripted:scripted-1" },
      { step: 1, summary: "the summary", messages: 2, model: "scripted:scripted-1" },
    ]);
    const messages = await s.messages();
    expect(messages.map((m) => m.role)).toEqual([
      "user",
      "assistant",
      "user",
      "assistant",
      "user",
      "assistant",
      "user",
      "assistant",
    ]);
    // The summaries' model calls are counted with the answers' (4 answers, 2 summaries).
    const usage = (await (await s.get("usage")).json()) as { models: { calls: number }[] };
    expect(usage.models.reduce((n, m) => n + m.calls, 0)).toBe(6);
  });
});
