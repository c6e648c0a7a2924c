import { describe, expect, it } from "vitest";
import { Ledger } from "../ledger/ledger.ts";
import { silentLogger } from "../logger.ts";
import { ManualClock } from "../testing/manual-clock.ts";
import { NodeSqlPort } from "../testing/node-sqlite.ts";
import { DueWork } from "../triggers/due-work.ts";
import {
  OUTBOX_DELIVERY_KEY,
  outboxProjection,
  outboxSize,
  type PendingMessage,
} from "./outbox.ts";
import { OutboxDelivery } from "./outbox-delivery.ts";

function setup() {
  const sql = new NodeSqlPort();
  const clock = new ManualClock(1_000);
  const projection = outboxProjection("test_outbox", 1, (event) =>
    event.kind === "usage.recorded"
      ? [{ topic: "usage", key: String(event.seq), payload: event.data }]
      : [{ topic: "status", key: "session", payload: { kind: event.kind, seq: event.seq } }],
  );
  const ledger = new Ledger(sql, clock, [projection]);
  return { sql, clock, ledger, work: new DueWork(sql) };
}

const metric = (value: number) => ({
  kind: "usage.recorded" as const,
  runId: null,
  data: { metric: "m", value },
});

describe("outbox", () => {
  it("writes messages in the append's transaction and schedules one delivery", () => {
    const { sql, ledger, work } = setup();
    ledger.append([metric(1), metric(2)]);
    expect(outboxSize(sql)).toBe(2);
    expect(work.list().map((w) => w.key)).toEqual([OUTBOX_DELIVERY_KEY]);
    expect(() =>
      ledger.append([metric(3)], () => {
        throw new Error("rolled back");
      }),
    ).toThrow();
    expect(outboxSize(sql)).toBe(2);
  });

  it("a key's newer message replaces a pending one", () => {
    const { sql, ledger } = setup();
    ledger.append([{ kind: "run.waiting", runId: "r", data: { reason: "x" } }]);
    ledger.append([{ kind: "run.aborted", runId: "r", data: { reason: "y" } }]);
    expect(outboxSize(sql)).toBe(1);
  });

  it("delivers at least once; a failure backs off and keeps the messages", async () => {
    const { sql, clock, ledger } = setup();
    ledger.append([metric(1), metric(2)]);
    const seen: PendingMessage[][] = [];
    let fail = true;
    const delivery = new OutboxDelivery(sql, {
      clock,
      logger: silentLogger,
      deliver: async (batch) => {
        seen.push([...batch]);
        if (fail) throw new Error("D1 is down");
      },
    });
    const item = {
      id: 1,
      kind: "",
      key: "",
      payload: {},
      dueAt: 0,
      attempts: 1,
      leaseUntil: null,
      lastError: null,
    };
    expect(await delivery.run()).toEqual({ type: "again", at: clock.now() + 1000 });
    expect(await delivery.run()).toEqual({ type: "again", at: clock.now() + 2000 });
    expect(outboxSize(sql)).toBe(2);
    fail = false;
    expect(await delivery.run()).toEqual({ type: "done" });
    expect(outboxSize(sql)).toBe(0);
    expect(seen.map((b) => b.map((m) => m.key))).toEqual([
      ["1", "2"],
      ["1", "2"],
      ["1", "2"],
    ]);
    expect(delivery.giveUp({}, new Error("x"), item)).toBeGreaterThan(clock.now());
  });

  it("a message replaced during delivery is not acknowledged away", async () => {
    const { sql, ledger } = setup();
    ledger.append([{ kind: "run.waiting", runId: "r", data: { reason: "x" } }]);
    const delivery = new OutboxDelivery(sql, {
      clock: new ManualClock(0),
      logger: silentLogger,
      deliver: async () => {
        ledger.append([{ kind: "run.aborted", runId: "r", data: { reason: "y" } }]);
      },
    });
    expect(await delivery.run()).toEqual({ type: "again" });
    expect(outboxSize(sql)).toBe(1);
  });
});
