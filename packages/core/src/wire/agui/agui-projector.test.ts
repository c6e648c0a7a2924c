import { verifyEvents } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";
import { from, lastValueFrom, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { counterAgent, mathAgent } from "../../../test/fixtures.ts";
import type { LedgerEvent } from "../../ledger/events.ts";
import { listMessages } from "../../ledger/projections/message-reads.ts";
import { createTestSession } from "../../testing/test-session.ts";
import { warm } from "../chunk-projector.ts";
import { type AguiEvent, createAguiProjector } from "./agui-projector.ts";

async function completedRun() {
  const s = createTestSession(mathAgent);
  await s.runtime.start({ message: "What is 2+3?" });
  await s.drain();
  return { s, events: s.runtime.ledger.read(0) };
}

const project = (events: readonly LedgerEvent[], messages?: () => never[]) => {
  const projector = createAguiProjector({ threadId: "s1", messages });
  return events.flatMap((e) => projector.map(e));
};

describe("the ledger as AG-UI events", () => {
  it("emits only events that validate against @ag-ui/core and pass the client's verifier", async () => {
    const { s, events } = await completedRun();
    const agui = createAguiProjector({
      threadId: "s1",
      messages: () => listMessages(s.sql, 0, 1),
    });
    const out = events.flatMap((e) => agui.map(e));
    for (const event of out) expect(EventSchemas.safeParse(event).error).toBeUndefined();
    const verified = await lastValueFrom(from(out as never[]).pipe(verifyEvents(false), toArray()));
    expect(verified).toHaveLength(out.length);
    const types = out.map((e) => e.type);
    expect(types.slice(0, 5)).toEqual([
      "RUN_STARTED",
      "STATE_SNAPSHOT",
      "MESSAGES_SNAPSHOT",
      "STEP_STARTED",
      "STATE_DELTA",
    ]);
    expect(types.slice(-2)).toEqual(["STATE_DELTA", "RUN_FINISHED"]);
    for (const type of [
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_END",
      "TOOL_CALL_START",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_END",
      "TOOL_CALL_RESULT",
      "STEP_FINISHED",
    ])
      expect(types).toContain(type);
    const snapshot = out[2] as unknown as { messages: { role: string }[] };
    expect(snapshot.messages.map((m) => m.role)).toEqual(["user"]);
    expect(out.at(-1)).toMatchObject({
      type: "RUN_FINISHED",
      outcome: { type: "success" },
      result: "The answer is 5.",
      usage: [{ inputTokens: expect.any(Number), outputTokens: expect.any(Number) }],
    });
    const text = out
      .filter((e) => e.type === "TEXT_MESSAGE_CONTENT")
      .map((e) => e.delta)
      .join("");
    expect(text).toBe("Let me add.The answer is 5.");
  });

  it("maps an interrupt and an abort to RUN_FINISHED outcomes, closing what is open", () => {
    const base = { runId: "r1", ts: 0 };
    const events = [
      { ...base, seq: 1, kind: "run.started", data: { agent: "a", input: { message: "hi" } } },
      { ...base, seq: 2, kind: "step.started", data: { step: 1, attempt: 1 } },
      { ...base, seq: 3, kind: "model.delta", data: { step: 1, text: "par" } },
      { ...base, seq: 4, kind: "run.interrupted", data: { reason: "user stop" } },
      {
        ...base,
        runId: "r2",
        seq: 5,
        kind: "run.started",
        data: { agent: "a", input: { message: "x" } },
      },
      { ...base, runId: "r2", seq: 6, kind: "run.aborted", data: { reason: "gone" } },
    ] as LedgerEvent[];
    const out = project(events);
    for (const event of out) expect(EventSchemas.safeParse(event).error).toBeUndefined();
    const finished = out.filter((e) => e.type === "RUN_FINISHED");
    expect(finished[0]).toMatchObject({
      outcome: { type: "interrupt", interrupts: [{ reason: "user stop" }] },
    });
    expect(finished[1]).toMatchObject({ outcome: { type: "cancelled" } });
    expect(out.map((e) => e.type)).toContain("TEXT_MESSAGE_END");
  });

  it("a projector warmed to any offset continues with exactly the remaining events", async () => {
    const { s, events } = await completedRun();
    const one = createAguiProjector({ threadId: "s1" });
    const counts = events.map((e) => one.map(e).length);
    const all = project(events);
    for (let after = 0; after <= events.length; after++) {
      const projector = createAguiProjector({ threadId: "s1" });
      warm(projector, s.runtime.ledger, s.sql, after);
      const rest = events.slice(after).flatMap((e) => projector.map(e));
      const done = counts.slice(0, after).reduce((a, b) => a + b, 0);
      expect(rest).toEqual(all.slice(done));
    }
  });

  it("carries the app state: in STATE_SNAPSHOT when a run opens, as STATE_DELTA /state in the run", async () => {
    const s = createTestSession(counterAgent);
    await s.runtime.start({ message: "count" });
    await s.drain();
    s.runtime.state.compareAndSet({ count: 50 }, 2);
    await s.runtime.start({ message: "again" });
    await s.drain();
    const projector = createAguiProjector({
      threadId: "s1",
      state: (seq) => s.runtime.state.at(seq).state,
    });
    const runs = [[], []] as AguiEvent[][];
    for (const event of s.runtime.ledger.read(0)) {
      const out = projector.map(event);
      // A write between runs has no run to patch: the next run's snapshot carries it.
      if (event.kind === "state.updated" && event.runId === null) expect(out).toEqual([]);
      runs[event.runId === "run_1" ? 0 : 1]?.push(...out);
    }
    for (const out of runs) {
      for (const event of out) expect(EventSchemas.safeParse(event).error).toBeUndefined();
      const verified = await lastValueFrom(
        from(out as never[]).pipe(verifyEvents(false), toArray()),
      );
      expect(verified).toHaveLength(out.length);
    }
    const snapshots = runs.map((out) => out.find((e) => e.type === "STATE_SNAPSHOT")?.snapshot);
    expect(snapshots).toMatchObject([{ state: { count: 0 } }, { state: { count: 50 } }]);
    const deltas = runs[0]?.flatMap((e) =>
      e.type === "STATE_DELTA" ? (e.delta as { path: string; value: unknown }[]) : [],
    );
    expect(deltas?.filter((d) => d.path === "/state")).toEqual([
      { op: "replace", path: "/state", value: { count: 1 } },
      { op: "replace", path: "/state", value: { count: 11 } },
    ]);
  });
});
