import { describe, expect, it } from "vitest";
import { Ledger, type Projection } from "../src/index.ts";
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
});
