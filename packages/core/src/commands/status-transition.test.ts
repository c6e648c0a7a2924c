import { describe, expect, it } from "vitest";
import { mathAgent, trustedCall } from "../../test/fixtures.ts";
import { latestRun } from "../ledger/projections/runs.ts";
import { createTestSession } from "../testing/test-session.ts";
import type { CommandCall } from "./dispatch.ts";
import { dispatchCommand } from "./dispatch.ts";
import { compareAndSetStatus } from "./status-transition.ts";

type Session = ReturnType<typeof createTestSession>;

function call(t: Session, extra: Partial<CommandCall> = {}): CommandCall {
  return trustedCall(t, "store", extra);
}

async function running(): Promise<Session> {
  const t = createTestSession(mathAgent);
  await dispatchCommand("start", { input: { message: "add" } }, call(t));
  return t;
}

describe("compareAndSetStatus: expected → next through the session commands", () => {
  it("moves a running run to aborted with the abort command, and reports what it found", async () => {
    const t = await running();
    const done = await compareAndSetStatus(
      { expected: "running", next: "aborted", reason: "budget" },
      call(t),
    );
    expect(done).toMatchObject({
      previous: "running",
      command: "abort",
      result: { status: "aborted" },
    });
    expect(t.runtime.ledger.read(0, 100).at(-1)).toMatchObject({
      kind: "run.aborted",
      data: { reason: "budget" },
    });
  });

  it("refuses a session that is not as expected with 409 status_conflict; nothing changes", async () => {
    const t = createTestSession(mathAgent);
    await expect(
      compareAndSetStatus({ expected: ["running", "waiting"], next: "interrupted" }, call(t)),
    ).rejects.toMatchObject({
      status: 409,
      code: "status_conflict",
      details: { expected: ["running", "waiting"], status: "idle", closed: false },
    });
    expect(t.runtime.ledger.tail).toBe(0);
  });

  it("refuses a move no command makes with 400 illegal_status_transition, before reading the session", async () => {
    const t = await running();
    const tail = t.runtime.ledger.tail;
    for (const [expected, next] of [
      ["completed", "running"],
      ["idle", "interrupted"],
      ["running", "closed"],
      [["interrupted", "aborted"], "aborted"],
    ] as const)
      await expect(compareAndSetStatus({ expected, next }, call(t))).rejects.toMatchObject({
        status: 400,
        code: "illegal_status_transition",
      });
    await expect(
      compareAndSetStatus({ expected: "running", next: "done" }, call(t)),
    ).rejects.toMatchObject({
      status: 400,
      code: "invalid_request",
    });
    expect(t.runtime.ledger.tail).toBe(tail);
  });

  it("compares again after the hooks: of two racing moves from running, one wins, the other gets a conflict", async () => {
    const t = await running();
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let first = true;
    const hooks = {
      beforeCommand: async () => {
        if (!first) return;
        first = false;
        await gate;
      },
    };
    const slow = compareAndSetStatus({ expected: "running", next: "aborted" }, call(t, { hooks }));
    const fast = await compareAndSetStatus(
      { expected: "running", next: "interrupted" },
      call(t, { hooks }),
    );
    expect(fast.command).toBe("interrupt");
    // The interrupt is a request until the run stops; finish it so the status moves.
    await t.drain();
    expect(latestRun(t.sql)?.status).toBe("interrupted");
    release();
    await expect(slow).rejects.toMatchObject({
      status: 409,
      code: "status_conflict",
      details: { status: "interrupted" },
    });
    const kinds = t.runtime.ledger.read(0, 1000).map((e) => e.kind);
    expect(kinds).not.toContain("run.aborted");
  });

  it("puts an interrupted run back to running (resume) and counts the resume; closes a finished session", async () => {
    const t = await running();
    await compareAndSetStatus({ expected: "running", next: "interrupted" }, call(t));
    await t.drain();
    const resumed = await compareAndSetStatus(
      { expected: "interrupted", next: "running" },
      call(t),
    );
    expect(resumed).toMatchObject({
      previous: "interrupted",
      command: "resume",
      result: { status: "running" },
    });
    expect(latestRun(t.sql)?.resumeCount).toBe(1);
    await t.drain();
    expect(latestRun(t.sql)?.status).toBe("completed");
    const closed = await compareAndSetStatus({ expected: "completed", next: "closed" }, call(t));
    expect(closed).toMatchObject({ command: "close", result: { closed: true } });
    await expect(
      compareAndSetStatus({ expected: "completed", next: "closed" }, call(t)),
    ).rejects.toMatchObject({ code: "status_conflict", details: { closed: true } });
  });
});
