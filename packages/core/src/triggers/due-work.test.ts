import { describe, expect, it } from "vitest";
import type { SqlValue } from "../sql/port.ts";
import { NodeSqlPort } from "../testing/node-sqlite.ts";
import { DueWork } from "./due-work.ts";

class CountingPort extends NodeSqlPort {
  count = 0;
  override exec<T extends object>(query: string, ...params: SqlValue[]): T[] {
    this.count++;
    return super.exec<T>(query, ...params);
  }
}

describe("due work scheduled again while claimed (invariant 4)", () => {
  it("keeps the new schedule when its holder completes or releases, and is not claimed again while running", () => {
    const work = new DueWork(new NodeSqlPort());
    work.schedule("run.step", "run:r1", { runId: "r1" }, 0, 0);
    const held = work.claim(0, 1_000);
    expect(held?.key).toBe("run:r1");
    // Another handler moves the run on while its step is still running.
    work.schedule("run.step", "run:r1", { runId: "r1" }, 5, 5);
    const running = new Set([held?.id ?? 0]);
    expect(work.claim(10, 1_000, running)).toBeUndefined();
    expect(work.nextWakeAt(running)).toBeNull();
    if (!held) throw new Error("no claim");
    expect(work.complete(held)).toBe(false);
    expect(work.get("run:r1")).toMatchObject({ dueAt: 5, leaseUntil: null });
    expect(work.release(held, 999, { resetAttempts: true })).toBe(false);
    expect(work.get("run:r1")?.dueAt).toBe(5);
    expect(work.claim(10, 1_000)?.key).toBe("run:r1");
  });

  it("an old holder cannot end or renew the new schedule's claim either (revisions, not leases)", () => {
    const work = new DueWork(new NodeSqlPort());
    work.schedule("trigger", "trigger:job", {}, 0, 0);
    const old = work.claim(0, 1_000);
    if (!old) throw new Error("no claim");
    work.schedule("trigger", "trigger:job", { v: 2 }, 5, 5);
    // The new schedule is claimed (another pass, or a new instance) while the old run goes on.
    const current = work.claim(10, 1_000);
    expect(current?.revision).toBe(old.revision + 1);
    expect(work.complete(old)).toBe(false);
    expect(work.release(old, 999, { resetAttempts: true })).toBe(false);
    work.renew(old, 50_000);
    expect(work.get("trigger:job")).toMatchObject({ payload: { v: 2 }, leaseUntil: 1_010 });
    if (!current) throw new Error("no claim");
    expect(work.complete(current)).toBe(true);
    expect(work.get("trigger:job")).toBeUndefined();
  });
});

describe("a holder that goes on at once (continue)", () => {
  it("keeps the row leased to it, due now, as a first attempt: what release and claim would store", () => {
    const work = new DueWork(new NodeSqlPort());
    work.schedule("run.step", "run:r1", { runId: "r1" }, 0, 0);
    const first = work.claim(0, 1_000);
    if (!first) throw new Error("no claim");
    // A failed attempt, retried: the second claim holds attempt 2.
    work.release(first, 5, { resetAttempts: false, error: "boom" });
    const retried = work.claim(5, 1_000);
    expect(retried?.attempts).toBe(2);
    if (!retried) throw new Error("no claim");
    const held = work.continue(retried, 20, 1_000);
    expect(held).toMatchObject({
      id: retried.id,
      revision: retried.revision,
      dueAt: 20,
      leaseUntil: 1_020,
      attempts: 1,
      lastError: null,
    });
    // Still leased: nobody else claims it before the lease runs out.
    expect(work.claim(30, 1_000)).toBeUndefined();
    expect(work.claim(1_020, 1_000)?.key).toBe("run:r1");
  });

  it("does nothing once the row was scheduled again: the new schedule stands", () => {
    const work = new DueWork(new NodeSqlPort());
    work.schedule("run.step", "run:r1", { runId: "r1" }, 0, 0);
    const held = work.claim(0, 1_000);
    if (!held) throw new Error("no claim");
    work.schedule("run.step", "run:r1", { runId: "r1", v: 2 }, 50, 10);
    expect(work.continue(held, 20, 1_000)).toBeUndefined();
    expect(work.get("run:r1")).toMatchObject({ dueAt: 50, leaseUntil: null, attempts: 0 });
  });
});

describe("a continuation that would write what is stored", () => {
  it("writes nothing for a first attempt with a fresh lease and nothing scheduled since, else writes", () => {
    const sql = new CountingPort();
    const work = new DueWork(sql);
    work.schedule("run.step", "run:r1", { runId: "r1" }, 0, 0);
    const held = work.claim(0, 1_000);
    if (!held) throw new Error("no claim");
    sql.count = 0;
    expect(work.continue(held, 100, 1_000)).toBe(held);
    expect(sql.count).toBe(0);
    // Half the lease gone: renewed by the write.
    expect(work.continue(held, 600, 1_000)).toMatchObject({ leaseUntil: 1_600, attempts: 1 });
    expect(sql.count).toBe(1);
    // Something was scheduled meanwhile (another row here): checked by the guarded write.
    const again = work.continue(held, 600, 1_000);
    work.schedule("trigger", "trigger:job", {}, 5_000, 600);
    sql.count = 0;
    if (!again) throw new Error("no continuation");
    expect(work.continue(again, 700, 1_000)).toMatchObject({ leaseUntil: 1_700 });
    expect(sql.count).toBe(1);
  });
});

describe("DueWork.revision", () => {
  it("changes with the writes that may bring the next wake-up earlier, and only those", () => {
    const work = new DueWork(new NodeSqlPort());
    const changed = (write: () => unknown): boolean => {
      const before = work.revision;
      write();
      return work.revision !== before;
    };
    expect(changed(() => work.schedule("k", "a", {}, 100, 0))).toBe(true);
    expect(changed(() => work.schedule("k", "b", {}, 500, 0))).toBe(true);
    const wake = work.nextWakeAt();
    // A lease, its renewal and a continuation only put the row's wake-up later.
    const revision = work.revision;
    const held = work.claim(100, 1_000);
    if (!held) throw new Error("no claim");
    expect(work.revision).toBe(revision);
    expect(changed(() => work.renew(held, 1_500))).toBe(false);
    expect(changed(() => work.continue(held, 300, 1_000))).toBe(false);
    expect(work.nextWakeAt()).toBeGreaterThanOrEqual(wake ?? 0);
    // Deleting rows never brings it earlier either.
    expect(changed(() => work.complete(held))).toBe(false);
    expect(changed(() => work.cancel("b"))).toBe(false);
    expect(changed(() => work.cancelWhere({ kind: "k" }))).toBe(false);
    // Release (due again at any time) and dropping every lease can.
    work.schedule("k", "c", {}, 100, 0);
    const c = work.claim(100, 1_000);
    if (!c) throw new Error("no claim");
    expect(changed(() => work.release(c, 150, { resetAttempts: true }))).toBe(true);
    work.claim(150, 1_000);
    expect(changed(() => work.releaseLeases())).toBe(true);
    expect(changed(() => work.dueNow(["k"], 0))).toBe(true);
  });
});

describe("DueWork.dueNow (a new incarnation's checks)", () => {
  it("makes the rows of the kinds given due now, leaves the rest and every row's attempts and revision", () => {
    const work = new DueWork(new NodeSqlPort());
    work.schedule("check", "c1", { n: 1 }, 900_000, 0);
    work.schedule("check", "c1", { n: 2 }, 900_000, 0);
    work.schedule("other", "o1", {}, 900_000, 0);
    work.schedule("check", "c2", {}, 5, 0);
    const before = work.get("c1");
    expect(work.dueNow(["check", "absent"], 10)).toBe(1);
    expect(work.get("c1")).toEqual({ ...before, dueAt: 10 });
    expect(work.get("c2")?.dueAt).toBe(5);
    expect(work.get("o1")?.dueAt).toBe(900_000);
    expect(work.claim(10, 1_000)?.key).toBe("c2");
    expect(work.claim(10, 1_000)?.key).toBe("c1");
    expect(work.claim(10, 1_000)).toBeUndefined();
  });
});

describe("the running set is a parameter, not part of the statement", () => {
  it("claims and wake-ups with different running sets run two statement texts each (with and without a running set), and leave those rows out", () => {
    const texts = new Set<string>();
    const sql = new (class extends NodeSqlPort {
      override exec<T extends object>(query: string, ...params: SqlValue[]): T[] {
        texts.add(query);
        return super.exec<T>(query, ...params);
      }
    })();
    const work = new DueWork(sql);
    for (const key of ["a", "b", "c"]) work.schedule("trigger", `trigger:${key}`, {}, 0, 0);
    const a = work.claim(0, 10);
    const b = work.claim(0, 10, new Set([a?.id ?? 0]));
    // Leases run out at 10: with a and b running, only c may be claimed, then nothing.
    const running = new Set([a?.id ?? 0, b?.id ?? 0]);
    expect(work.claim(20, 10, running)?.key).toBe("trigger:c");
    expect(work.nextWakeAt(new Set([a?.id ?? 0]))).toBe(10);
    expect(work.nextWakeAt(running)).toBe(30);
    texts.clear();
    work.claim(40, 10, new Set([1]));
    work.claim(40, 10, new Set([2, 3]));
    work.claim(40, 10);
    work.nextWakeAt(new Set([4]));
    work.nextWakeAt(new Set([5, 6]));
    work.nextWakeAt();
    expect(texts.size).toBe(4);
  });
});
