/**
 * The D1 index's status messages carry when their session began (`createdAt`,
 * `ledgerStartedAt`: a SELECT). It never changes once the ledger's first event is stored (a
 * fork's copy time is written before its copied events, in the same transaction), so the
 * projection reads it once per object, not once per status message. Found by a read of the
 * code (index-messages.ts read it for every status message).
 */
import { runInDurableObject } from "cloudflare:test";
import {
  type Clock,
  DueWork,
  Ledger,
  type NewEvent,
  type SqlPort,
  systemClock,
} from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { indexProjection } from "../src/d1/index-messages.ts";
import { doSqlPort } from "../src/index.ts";
import { session } from "./support/session.ts";

/**
 * The object's SQL port (with the due work table the outbox schedules its delivery in),
 * counting the statements that read when the session began.
 */
function counting(storage: DurableObjectStorage): SqlPort & { readonly reads: () => number } {
  const port = doSqlPort(storage);
  new DueWork(port);
  let reads = 0;
  return {
    exec(query, ...params) {
      if (query.includes("SELECT copied_at FROM ledger_copied")) reads++;
      return port.exec(query, ...params);
    },
    transaction: (fn) => port.transaction(fn),
    reads: () => reads,
  };
}

/** A clock moved by hand (core's ManualClock imports node:sqlite beside it, absent in workerd). */
function manualClock(start: number): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: systemClock.sleep,
    advance(ms) {
      now += ms;
    },
  };
}

/** Events the index projection reads only by kind, run, seq and ts. */
const event = (kind: string, runId: string | null = "r1", ts?: number) =>
  ({ kind, runId, data: {}, ...(ts === undefined ? {} : { ts }) }) as unknown as NewEvent;

/** The `createdAt` of the session's pending status message. */
function createdAt(sql: SqlPort): number | undefined {
  const [row] = sql.exec<{ payload: string }>(
    "SELECT payload FROM outbox WHERE topic = 'session' AND key = 'session'",
  );
  return row ? (JSON.parse(row.payload) as { createdAt?: number }).createdAt : undefined;
}

/** Runs `body` in a new session object: a ledger with the index projection alone, its clock at `start`. */
function inNewSession(
  start: number,
  body: (t: {
    sql: ReturnType<typeof counting>;
    clock: ReturnType<typeof manualClock>;
    ledger: Ledger;
  }) => void,
): Promise<void> {
  return runInDurableObject(session("chatty").stub(), (_instance, state) => {
    const sql = counting(state.storage);
    const clock = manualClock(start);
    body({ sql, clock, ledger: new Ledger(sql, clock, [indexProjection()]) });
  });
}

describe("the index projection reads when its session began once per object", () => {
  it("one read for a run's statuses; a rebuild, replayed from seq 1, reads it once more", async () => {
    await inNewSession(1_000, ({ sql, clock, ledger }) => {
      ledger.append([event("run.started")]);
      for (const kind of ["run.waiting", "run.resumed", "run.interrupted", "run.resumed"]) {
        clock.advance(100);
        ledger.append([event(kind)]);
      }
      clock.advance(100);
      ledger.append([event("run.completed")]);
      expect(sql.reads()).toBe(1);
      expect(createdAt(sql)).toBe(1_000);
      ledger.rebuild(["d1_index"]);
      expect(sql.reads()).toBe(2);
      expect(createdAt(sql)).toBe(1_000);
    });
  });

  it("a first append rolled back is read again: the next first event's time, not the lost one's", async () => {
    await inNewSession(1_000, ({ sql, clock, ledger }) => {
      expect(() =>
        ledger.append([event("run.started")], () => {
          throw new Error("the effects fail: nothing of the batch is stored");
        }),
      ).toThrow("the effects fail");
      clock.advance(5_000);
      // Seq 1 moves nothing in the index; seq 2 is the first status message that commits.
      ledger.append([event("state.updated", null), event("run.started")]);
      expect(createdAt(sql)).toBe(6_000);
    });
  });

  it("a fork's statuses carry its copy time, read once, never its source's start", async () => {
    await inNewSession(50_000, ({ sql, clock, ledger }) => {
      ledger.appendThen(
        [event("run.started", "r1", 1_000), event("run.waiting", "r1", 2_000)],
        () => [event("run.interrupted")],
      );
      clock.advance(100);
      ledger.append([event("run.resumed")]);
      expect(createdAt(sql)).toBe(50_000);
      expect(sql.reads()).toBe(1);
    });
  });
});
