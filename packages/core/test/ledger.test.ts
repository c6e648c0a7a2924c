import { describe, expect, it } from "vitest";
import {
  Ledger,
  type LedgerEvent,
  ledgerStartedAt,
  type NewEvent,
  type Projection,
  usageEntriesProjection,
  usageProjection,
  usageSummary,
} from "../src/index.ts";
import { ManualClock, NodeSqlPort } from "../src/testing/index.ts";

const metric = (value: number) => ({
  kind: "usage.recorded" as const,
  runId: null,
  data: { metric: "m", value },
});

function counter(version: number, failOn?: number): Projection {
  return {
    name: "total",
    version,
    create: [
      "CREATE TABLE total (id INTEGER PRIMARY KEY CHECK (id = 1), sum INTEGER NOT NULL, version INTEGER NOT NULL)",
    ],
    drop: ["DROP TABLE IF EXISTS total"],
    apply(sql, event) {
      if (event.kind !== "usage.recorded") return;
      if (event.data.value === failOn) throw new Error("reducer refuses this event");
      sql.exec(
        "INSERT INTO total (id, sum, version) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET sum = sum + excluded.sum",
        event.data.value,
        version,
      );
    },
  };
}

describe("ledger (G1)", () => {
  it("hands every committed batch to every listener, though one before it throws", () => {
    const ledger = new Ledger(new NodeSqlPort(), new ManualClock(), []);
    const seen: number[][] = [];
    ledger.onAppend((events) => {
      if (events[0]?.seq === 1) throw new Error("this listener fails");
    });
    ledger.onAppend((events) => void seen.push(events.map((e) => e.seq)));
    // The batch is stored and the later listener has it; the caller gets the first error.
    expect(() => ledger.append([metric(1)])).toThrow("this listener fails");
    ledger.append([metric(2)]);
    expect(ledger.tail).toBe(2);
    expect(seen).toEqual([[1], [2]]);
  });

  it("assigns gap-free seq from 1 and reads from any offset", () => {
    const ledger = new Ledger(new NodeSqlPort(), new ManualClock(), []);
    ledger.append([metric(1), metric(2)]);
    ledger.append([metric(3)]);
    expect(ledger.read(0).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(ledger.read(2).map((e) => e.data)).toEqual([{ metric: "m", value: 3 }]);
    expect(ledger.tail).toBe(3);
  });

  it("a reducer error rolls the whole batch back, and seq stays gap-free", () => {
    const sql = new NodeSqlPort();
    const ledger = new Ledger(sql, new ManualClock(), [counter(1, 99)]);
    ledger.append([metric(1)]);
    expect(() => ledger.append([metric(2), metric(99)])).toThrow("reducer refuses");
    expect(ledger.tail).toBe(1);
    expect(ledger.read(0)).toHaveLength(1);
    ledger.append([metric(5)]);
    expect(ledger.read(0).map((e) => e.seq)).toEqual([1, 2]);
    expect(sql.exec("SELECT sum FROM total")).toEqual([{ sum: 6 }]);
  });

  it("a projection whose version changed is rebuilt from the ledger when the session opens", () => {
    const sql = new NodeSqlPort();
    new Ledger(sql, new ManualClock(), [counter(1)]).append([metric(2), metric(3)]);
    sql.exec("UPDATE total SET sum = -1"); // drift that only a rebuild repairs
    const reopened = new Ledger(sql, new ManualClock(), [counter(2)]);
    expect(sql.exec("SELECT sum, version FROM total")).toEqual([{ sum: 5, version: 2 }]);
    expect(reopened.tail).toBe(2);
  });

  it("listeners see each committed batch once, and never a rolled-back one", () => {
    const ledger = new Ledger(new NodeSqlPort(), new ManualClock(), [counter(1, 99)]);
    const seen: number[] = [];
    ledger.onAppend((events) => seen.push(...events.map((e) => e.seq)));
    ledger.append([metric(1)]);
    expect(() => ledger.append([metric(99)])).toThrow();
    ledger.append([metric(2)]);
    expect(seen).toEqual([1, 2]);
  });

  describe("copied history (a fork's prefix, invariant 7)", () => {
    const model = (inputTokens: number): NewEvent => ({
      kind: "model.completed",
      runId: "r1",
      data: {
        step: 1,
        text: "",
        toolCalls: [],
        model: "m",
        finishReason: "stop",
        usage: { inputTokens, outputTokens: 1 },
      },
    });
    const copy = (events: readonly NewEvent[]): NewEvent[] =>
      events.map((e) => ({ ...e, ts: 1_000 }));
    const seen = (log: [number, boolean][]): Projection => ({
      name: "seen",
      version: 1,
      create: [],
      drop: [],
      apply: (_sql, event, copied) => void log.push([event.seq, copied]),
    });

    it("is recorded, told to projections the same on append and rebuild, and runs no reactor", () => {
      const sql = new NodeSqlPort();
      const log: [number, boolean][] = [];
      const reacted: number[] = [];
      const ledger = new Ledger(
        sql,
        new ManualClock(),
        [seen(log)],
        [(_sql, event: LedgerEvent) => void reacted.push(event.seq)],
      );
      ledger.append(copy([metric(1), metric(2)]));
      ledger.append([metric(3)]);
      expect(ledger.copiedThrough).toBe(2);
      expect(reacted).toEqual([3]);
      const reopened = new Ledger(sql, new ManualClock(), [seen(log)]);
      expect(reopened.copiedThrough).toBe(2);
      log.length = 0;
      reopened.rebuild(["seen"]);
      expect(log).toEqual([
        [1, true],
        [2, true],
        [3, false],
      ]);
    });

    it("starts the session when the copy is made, not at its source's first event (ledgerStartedAt)", () => {
      const sql = new NodeSqlPort();
      const clock = new ManualClock(5_000);
      // What a projection reads while the copy is applied (the D1 index's status messages).
      const startedAtInApply: (number | undefined)[] = [];
      const reader: Projection = {
        name: "reader",
        version: 1,
        create: [],
        drop: [],
        apply: (sql) => void startedAtInApply.push(ledgerStartedAt(sql)),
      };
      const ledger = new Ledger(sql, clock, [reader]);
      expect(ledgerStartedAt(sql)).toBeUndefined();
      ledger.append(copy([metric(1)]));
      clock.advance(1_000);
      ledger.append(copy([metric(2)]));
      ledger.append([metric(3)]);
      // The copied events keep their source's time (1_000); the fork began at its first copy.
      expect(ledger.read(0).map((e) => e.ts)).toEqual([1_000, 1_000, 6_000]);
      expect(ledgerStartedAt(sql)).toBe(5_000);
      expect(startedAtInApply).toEqual([5_000, 5_000, 5_000]);
      const own = new NodeSqlPort();
      const session = new Ledger(own, new ManualClock(7_000), []);
      session.append([metric(1)]);
      expect(ledgerStartedAt(own)).toBe(7_000);
    });

    it("only as a prefix: after an event of the session's own, a copied one stores nothing", () => {
      const ledger = new Ledger(new NodeSqlPort(), new ManualClock(), []);
      ledger.append([metric(1)]);
      expect(() => ledger.append(copy([metric(2)]))).toThrow("copy history only into an empty");
      expect(ledger.tail).toBe(1);
      expect(ledger.copiedThrough).toBe(0);
    });

    it("is no usage of this session: its usage counts what it spent, before and after a rebuild", () => {
      const sql = new NodeSqlPort();
      const ledger = new Ledger(sql, new ManualClock(), [usageProjection, usageEntriesProjection]);
      ledger.append(copy([model(100), metric(7)]));
      ledger.append([model(5)]);
      const spent = {
        models: [
          {
            model: "m",
            calls: 1,
            inputTokens: 5,
            outputTokens: 1,
            cachedInputTokens: 0,
            reasoningTokens: 0,
          },
        ],
        tools: [],
        subagents: [],
        metrics: [],
      };
      expect(usageSummary(sql)).toEqual(spent);
      expect(sql.exec("SELECT seq FROM usage_entries")).toEqual([{ seq: 3 }]);
      ledger.rebuild();
      expect(usageSummary(sql)).toEqual(spent);
      expect(sql.exec("SELECT seq FROM usage_entries")).toEqual([{ seq: 3 }]);
    });
  });
});
