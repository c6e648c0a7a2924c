import type { LanguageModelV4 } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  defineAgent,
  defineTool,
  type LedgerEvent,
  LIMITS,
  latestRun,
  listCheckpoints,
  scriptedModel,
  TerminalError,
} from "../src/index.ts";
import { createTestSession, ManualClock } from "../src/testing/index.ts";
import { bump, counterAgent, counterState } from "./fixtures.ts";

const stateEvents = (events: readonly LedgerEvent[]) =>
  events.flatMap((e) => (e.kind === "state.updated" ? [{ ...e.data, seq: e.seq }] : []));

/** The counter agent whose third model call (after both bumps) fails `failures` times. */
function failingCounter(failures: number) {
  const base = counterAgent.model as LanguageModelV4;
  const model: LanguageModelV4 = {
    ...base,
    doStream: async (options) => {
      const turn = options.prompt.filter((m) => m.role === "assistant").length;
      if (turn === 2 && failures-- > 0) throw new TerminalError("model_rejected", "no");
      return base.doStream(options);
    },
  };
  return defineAgent({ ...counterAgent, model });
}

describe("application state: client compare-and-set", () => {
  it("starts at the initial state, version 0, and moves one version per write", () => {
    const s = createTestSession(counterAgent);
    expect(s.runtime.state.current()).toEqual({ state: { count: 0 }, version: 0 });
    expect(s.runtime.state.compareAndSet({ count: 5 }, 0)).toEqual({ version: 1, seq: 1 });
    expect(s.runtime.state.compareAndSet({ count: 6 }, 1)).toEqual({ version: 2, seq: 2 });
    expect(s.runtime.state.current()).toEqual({ state: { count: 6 }, version: 2 });
    expect(stateEvents(s.runtime.ledger.read(0))).toEqual([
      { state: { count: 5 }, version: 1, source: "client", seq: 1 },
      { state: { count: 6 }, version: 2, source: "client", seq: 2 },
    ]);
  });

  it("a stale expectedVersion is a 409 carrying the current version, and writes nothing", () => {
    const s = createTestSession(counterAgent);
    s.runtime.state.compareAndSet({ count: 5 }, 0);
    expect(() => s.runtime.state.compareAndSet({ count: 7 }, 0)).toThrow(
      expect.objectContaining({
        status: 409,
        code: "version_conflict",
        currentVersion: 1,
        details: { currentVersion: 1, expectedVersion: 0 },
        message: expect.stringContaining("GET .../state again"),
      }),
    );
    expect(s.runtime.ledger.tail).toBe(1);
    expect(s.runtime.state.current()).toEqual({ state: { count: 5 }, version: 1 });
  });

  it("a write that breaks stateSchema, is not JSON, or is over the event limit writes nothing", () => {
    const s = createTestSession(counterAgent);
    expect(() => s.runtime.state.compareAndSet({ count: "many" }, 0)).toThrow(
      expect.objectContaining({
        status: 400,
        code: "invalid_request",
        message: expect.stringContaining("count"),
      }),
    );
    expect(() => s.runtime.state.compareAndSet(undefined, 0)).toThrow(
      expect.objectContaining({ status: 400 }),
    );
    const huge = { count: 1, label: "x".repeat(LIMITS.maxEventBytes) };
    expect(() => s.runtime.state.compareAndSet(huge, 0)).toThrow(
      expect.objectContaining({ status: 413, code: "payload_too_large" }),
    );
    expect(s.runtime.ledger.tail).toBe(0);
    expect(s.runtime.state.current().version).toBe(0);
  });

  it("an agent without initialState starts at null; defineAgent refuses an initialState the schema refuses", () => {
    const plain = defineAgent({ name: "plain", system: "", model: scriptedModel() });
    expect(createTestSession(plain).runtime.state.current()).toEqual({ state: null, version: 0 });
    expect(() =>
      defineAgent({ ...counterAgent, name: "bad", initialState: { count: "zero" } }),
    ).toThrow(/initialState does not match stateSchema/);
  });
});

describe("application state: the session_state projection", () => {
  it("rebuilds to the same state and history, and refuses an event that skips a version", () => {
    const s = createTestSession(counterAgent);
    s.runtime.state.compareAndSet({ count: 1 }, 0);
    s.runtime.state.compareAndSet({ count: 2 }, 1);
    s.runtime.ledger.rebuild(["session_state"]);
    expect(s.runtime.state.current()).toEqual({ state: { count: 2 }, version: 2 });
    expect(s.runtime.state.at(1)).toEqual({ state: { count: 1 }, version: 1 });
    expect(s.runtime.state.at(0)).toEqual({ state: { count: 0 }, version: 0 });
    expect(() =>
      s.runtime.ledger.append([
        { kind: "state.updated", runId: null, data: { state: 9, version: 4, source: "client" } },
      ]),
    ).toThrow(expect.objectContaining({ code: "state_version_gap" }));
    expect(s.runtime.ledger.tail).toBe(2);
    expect(s.runtime.state.current().version).toBe(2);
  });
});

describe("application state: tools", () => {
  it("a tool's write commits right after its tool.completed, in one append; get after set sees it", async () => {
    const s = createTestSession(counterAgent);
    await s.runtime.start({ message: "count" });
    await s.drain();
    const events = s.runtime.ledger.read(0);
    const writes = stateEvents(events);
    expect(writes.map(({ state, version, source }) => ({ state, version, source }))).toEqual([
      { state: { count: 1 }, version: 1, source: "tool" },
      { state: { count: 11 }, version: 2, source: "tool" },
    ]);
    for (const write of writes) {
      const completed = events[write.seq - 2];
      expect(completed?.kind).toBe("tool.completed");
      expect(completed?.data).toMatchObject({ callId: (write as { callId: string }).callId });
    }
    const first = events.find((e) => e.kind === "tool.completed");
    expect(first?.data).toMatchObject({
      result: { before: { count: 0 }, after: { count: 1 }, version: 0 },
    });
    expect(s.runtime.state.current()).toEqual({ state: { count: 11 }, version: 2 });
  });

  it("a crash before the result commits leaves the state unchanged; the redriven call writes once", async () => {
    let executions = 0;
    const counted = defineTool({
      ...bump,
      execute: (input: { by: number }, ctx) => {
        executions++;
        return bump.execute(input, ctx);
      },
    });
    const agent = defineAgent({ ...counterAgent, tools: [counted] });
    let hits = 0;
    // The object dies after the first bump ran but before its result committed.
    const s = createTestSession(agent, {
      faults: (point) =>
        point === "before-tool-commit" && hits++ === 0 ? new Promise<void>(() => {}) : undefined,
    });
    await s.runtime.start({ message: "count" });
    void s.runtime.alarm();
    await new Promise((r) => setTimeout(r, 20));
    expect(executions).toBe(1);
    expect(s.runtime.state.current()).toEqual({ state: { count: 0 }, version: 0 });

    const fresh = s.restart({ clock: new ManualClock(s.clock.now() + 60_000), faults: undefined });
    await fresh.runtime.alarm();
    await fresh.drain();
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(executions).toBe(3);
    expect(fresh.runtime.state.current()).toEqual({ state: { count: 11 }, version: 2 });
    expect(stateEvents(fresh.runtime.ledger.read(0))).toHaveLength(2);
  });

  it("a call that fails (a bad state, or a throw after set) changes nothing", async () => {
    const badState = defineTool({
      name: "bad_state",
      description: "Sets a state the schema refuses",
      input: z.object({}),
      effect: "pure",
      execute: (_input, ctx) => {
        ctx.state.set({ count: "lots" });
        return "unreachable";
      },
    });
    const setThenThrow = defineTool({
      name: "set_then_throw",
      description: "Stages a state, then fails",
      input: z.object({}),
      effect: "pure",
      execute: (_input, ctx) => {
        ctx.state.set({ count: 42 });
        throw new Error("gave up after staging");
      },
    });
    const agent = defineAgent({
      name: "failing",
      system: "",
      tools: [badState, setThenThrow],
      initialState: { count: 0 },
      stateSchema: counterState,
      model: scriptedModel({
        turns: [
          {
            toolCalls: [
              { name: "bad_state", args: {} },
              { name: "set_then_throw", args: {} },
            ],
          },
          { text: "Both failed." },
        ],
      }),
    });
    const s = createTestSession(agent);
    await s.runtime.start({ message: "go" });
    await s.drain();
    const events = s.runtime.ledger.read(0);
    const failed = events.flatMap((e) => (e.kind === "tool.failed" ? [e.data] : []));
    expect(failed.map((f) => f.name).sort()).toEqual(["bad_state", "set_then_throw"]);
    expect(failed.find((f) => f.name === "bad_state")?.error.message).toContain("count");
    expect(stateEvents(events)).toEqual([]);
    expect(s.runtime.state.current()).toEqual({ state: { count: 0 }, version: 0 });
  });
});

describe("application state: going back to a checkpoint", () => {
  it("retry from a checkpoint restores the state as it was there, as a new version", async () => {
    const s = createTestSession(failingCounter(1));
    await s.runtime.start({ message: "count" });
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("failed");
    s.runtime.state.compareAndSet({ count: 99 }, 2);
    const latest = listCheckpoints(s.sql, 0, 10).at(-1);
    await s.runtime.retry({ mode: "from_checkpoint" });
    const restore = stateEvents(s.runtime.ledger.read(0)).at(-1);
    expect(restore).toMatchObject({
      state: { count: 11 },
      version: 4,
      source: "restore",
      checkpoint: latest?.seq,
    });
    expect(s.runtime.ledger.read(restore?.seq ?? 0, 1)[0]?.kind).toBe("run.resumed");
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(s.runtime.state.current()).toEqual({ state: { count: 11 }, version: 4 });
  });

  it("resume from the run's start restores the initial state; the run then counts again", async () => {
    const s = createTestSession(failingCounter(1));
    await s.runtime.start({ message: "count" });
    await s.drain();
    const start = listCheckpoints(s.sql, 0, 10)[0];
    await s.runtime.resume({ mode: "from_checkpoint", checkpoint: start?.id });
    expect(s.runtime.state.current()).toEqual({ state: { count: 0 }, version: 3 });
    await s.drain();
    expect(s.runtime.state.current()).toEqual({ state: { count: 11 }, version: 5 });
    expect(stateEvents(s.runtime.ledger.read(0)).map((e) => e.source)).toEqual([
      "tool",
      "tool",
      "restore",
      "tool",
      "tool",
    ]);
  });

  it("writes no restore when the state is what it was at the checkpoint", async () => {
    const s = createTestSession(failingCounter(1));
    await s.runtime.start({ message: "count" });
    await s.drain();
    const tail = s.runtime.ledger.tail;
    await s.runtime.retry({ mode: "from_checkpoint" });
    expect(s.runtime.ledger.read(tail).map((e) => e.kind)).toEqual(["run.resumed"]);
  });
});
