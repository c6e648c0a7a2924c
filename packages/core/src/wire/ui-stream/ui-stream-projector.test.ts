import { uiMessageChunkSchema } from "ai";
import { describe, expect, it } from "vitest";
import { rebuildMessage as rebuild } from "../../../../../test/support/ui-message.ts";
import { counterAgent, mathAgent } from "../../../test/fixtures.ts";
import type { LedgerEvent } from "../../ledger/events.ts";
import { createTestSession } from "../../testing/test-session.ts";
import { warm } from "../chunk-projector.ts";
import { createUiStreamProjector } from "./ui-stream-projector.ts";

async function completedRun() {
  const s = createTestSession(mathAgent);
  await s.runtime.start({ message: "What is 2+3?" });
  await s.drain();
  return { s, events: s.runtime.ledger.read(0) };
}

const project = (events: readonly LedgerEvent[]) => {
  const projector = createUiStreamProjector();
  return events.flatMap((e) => projector.map(e));
};

describe("the ledger as AI SDK UI message chunks", () => {
  it("emits chunks that validate against the ai package's schema", async () => {
    const { events } = await completedRun();
    const schema = await uiMessageChunkSchema();
    for (const chunk of project(events)) {
      const result = await schema.validate!(chunk);
      expect(result.success, JSON.stringify(chunk)).toBe(true);
    }
  });

  it("rebuilds one assistant message with the ai package's own reader", async () => {
    const { events } = await completedRun();
    const message = await rebuild(project(events));
    expect(message?.role).toBe("assistant");
    expect(message?.id).toBe("run_1");
    const parts = message?.parts.filter((p) => p.type !== "step-start");
    expect(parts).toMatchObject([
      { type: "text", text: "Let me add.", state: "done" },
      { type: "tool-calculator", state: "output-available", input: { a: 2, b: 3 }, output: 5 },
      { type: "text", text: "The answer is 5.", state: "done" },
    ]);
  });

  it("continues at every chunk with no part duplicated or lost", async () => {
    const { s, events } = await completedRun();
    const one = createUiStreamProjector();
    const counts = events.map((e) => one.map(e).length);
    const all = project(events);
    const whole = await rebuild(all);
    for (let after = 0; after < events.length; after++) {
      const done = counts.slice(0, after).reduce((a, b) => a + b, 0);
      for (let skip = 0; skip <= (counts[after] ?? 0); skip++) {
        const projector = createUiStreamProjector();
        warm(projector, s.runtime.ledger, s.sql, after);
        const rest = events
          .slice(after)
          .flatMap((e) => projector.map(e))
          .slice(skip);
        const joined = [...all.slice(0, done + skip), ...rest];
        expect(joined).toEqual(all);
      }
    }
    expect(await rebuild(all)).toEqual(whole);
  });

  it("resets a step retried after a crash, so the lost attempt's text is dropped", async () => {
    const base = { runId: "r1", ts: 0 };
    const events = [
      { ...base, seq: 1, kind: "run.started", data: { agent: "a", input: { message: "hi" } } },
      { ...base, seq: 2, kind: "step.started", data: { step: 1, attempt: 1 } },
      { ...base, seq: 3, kind: "model.delta", data: { step: 1, text: "lost" } },
      { ...base, seq: 4, kind: "step.started", data: { step: 1, attempt: 2 } },
      { ...base, seq: 5, kind: "model.delta", data: { step: 1, text: "kept" } },
      {
        ...base,
        seq: 6,
        kind: "model.completed",
        data: {
          step: 1,
          text: "kept",
          toolCalls: [],
          finishReason: "stop",
          usage: { inputTokens: 1, outputTokens: 1 },
          model: "m",
        },
      },
      { ...base, seq: 7, kind: "step.completed", data: { step: 1 } },
      { ...base, seq: 8, kind: "run.completed", data: { output: "kept" } },
    ] as LedgerEvent[];
    const message = await rebuild(project(events));
    expect(message?.parts.filter((p) => p.type === "text")).toMatchObject([{ text: "kept" }]);
  });

  it("sends each state write of a run as one data-state part, replaced in place", async () => {
    const s = createTestSession(counterAgent);
    await s.runtime.start({ message: "count" });
    await s.drain();
    const chunks = project(s.runtime.ledger.read(0));
    const schema = await uiMessageChunkSchema();
    for (const chunk of chunks) expect((await schema.validate!(chunk)).success).toBe(true);
    expect(chunks.filter((c) => c.type === "data-state")).toEqual([
      { type: "data-state", id: "state", data: { state: { count: 1 }, version: 1 } },
      { type: "data-state", id: "state", data: { state: { count: 11 }, version: 2 } },
    ]);
    const message = await rebuild(chunks);
    expect(message?.parts.filter((p) => p.type === "data-state")).toEqual([
      { type: "data-state", id: "state", data: { state: { count: 11 }, version: 2 } },
    ]);
  });
});
