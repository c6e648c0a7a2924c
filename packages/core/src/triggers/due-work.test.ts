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
    work.complete(held?.id ?? 0);
    expect(work.get("run:r1")).toMatchObject({ dueAt: 5, leaseUntil: null });
    work.release(held?.id ?? 0, 999, { resetAttempts: true });
    expect(work.get("run:r1")?.dueAt).toBe(5);
    expect(work.claim(10, 1_000)?.key).toBe("run:r1");
  });
});
