import { describe, expect, it } from "vitest";
import { Ledger } from "../ledger/ledger.ts";
import { silentLogger } from "../logger.ts";
import { ManualClock } from "../testing/manual-clock.ts";
import { NodeSqlPort } from "../testing/node-sqlite.ts";
import { DueWork } from "../triggers/due-work.ts";
import {
  OUTBOX_DELIVERY_KEY,
  outboxLagMs,
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

  it("delivers in the background: run never waits for the receiver", async () => {
    const { sql, clock, ledger } = setup();
    ledger.append([metric(1), metric(2)]);
    let answer = () => {};
    const delivery = new OutboxDelivery(sql, {
      clock,
      logger: silentLogger,
      deliver: () => new Promise<void>((resolve) => (answer = resolve)),
    });
    // The receiver hangs: run returns at once, due again in checkEveryMs, messages kept.
    expect(await delivery.run()).toEqual({ type: "again", at: clock.now() + 1000 });
    expect(delivery.delivering).toBe(true);
    clock.advance(1000);
    expect(await delivery.run()).toEqual({ type: "again", at: clock.now() + 1000 });
    expect(outboxSize(sql)).toBe(2);
    expect(outboxLagMs(sql, clock.now())).toBe(1000);
    answer();
    await Promise.resolve();
    await Promise.resolve();
    expect(outboxSize(sql)).toBe(0);
    expect(outboxLagMs(sql, clock.now())).toBe(0);
    expect(await delivery.run()).toEqual({ type: "done" });
  });

  it("delivers at least once; a failure or a timeout backs off and keeps the messages", async () => {
    const { sql, clock, ledger } = setup();
    ledger.append([metric(1), metric(2)]);
    const seen: PendingMessage[][] = [];
    let mode: "fail" | "hang" | "ok" = "fail";
    const delivery = new OutboxDelivery(sql, {
      clock,
      logger: silentLogger,
      timeoutMs: 5000,
      deliver: async (batch) => {
        seen.push([...batch]);
        if (mode === "fail") throw new Error("D1 is down");
        if (mode === "hang") await new Promise(() => {});
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
      revision: 0,
    };
    const settle = () => new Promise((r) => setTimeout(r, 0));
    expect(await delivery.run()).toEqual({ type: "again", at: clock.now() + 1000 });
    await settle();
    // First failure: back off 1 s from when it failed.
    expect(await delivery.run()).toEqual({ type: "again", at: clock.now() + 1000 });
    clock.advance(1000);
    mode = "hang";
    expect(await delivery.run()).toEqual({ type: "again", at: clock.now() + 1000 });
    clock.advance(5000);
    // Unanswered past the timeout: the second failure, back off 2 s.
    expect(await delivery.run()).toEqual({ type: "again", at: clock.now() + 2000 });
    expect(outboxSize(sql)).toBe(2);
    clock.advance(2000);
    mode = "ok";
    expect(await delivery.run()).toEqual({ type: "again", at: clock.now() + 1000 });
    await settle();
    expect(outboxSize(sql)).toBe(0);
    expect(await delivery.run()).toEqual({ type: "done" });
    expect(seen.map((b) => b.map((m) => m.key))).toEqual([
      ["1", "2"],
      ["1", "2"],
      ["1", "2"],
    ]);
    expect(delivery.giveUp({}, new Error("x"), item)).toBeGreaterThan(clock.now());
  });

  it("the first message schedules the delivery delayMs later; later ones ride along", () => {
    const sql = new NodeSqlPort();
    const clock = new ManualClock(1_000);
    const projection = outboxProjection(
      "delayed",
      1,
      (event) => [{ topic: "t", key: String(event.seq), payload: {} }],
      { delayMs: 250 },
    );
    const ledger = new Ledger(sql, clock, [projection]);
    const work = new DueWork(sql);
    ledger.append([metric(1)]);
    clock.advance(100);
    ledger.append([metric(2)]);
    expect(work.list().map((w) => [w.key, w.dueAt])).toEqual([[OUTBOX_DELIVERY_KEY, 1_250]]);
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
    await delivery.run();
    await new Promise((r) => setTimeout(r, 0));
    expect(outboxSize(sql)).toBe(1);
  });
});
