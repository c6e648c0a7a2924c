import { describe, expect, it } from "vitest";
import { NodeSqlPort } from "../testing/node-sqlite.ts";
import { DueWork } from "./due-work.ts";

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
