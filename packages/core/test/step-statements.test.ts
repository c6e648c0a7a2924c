/**
 * SQL statements per step: counted, not timed (bench/step-cost.ts times them). The count is
 * deterministic for a scripted run, and it must not grow with the conversation's length.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/testing/manual-clock.ts";
import { createTestSession } from "../src/testing/test-session.ts";
import { CountingSqlPort } from "./counting-sql.ts";
import { mathAgent } from "./fixtures.ts";

/** Statements of one two-step run (calculator call, then the answer) after `history` runs. */
async function statementsOfRun(history: number): Promise<string[]> {
  const sql = new CountingSqlPort();
  const session = createTestSession(mathAgent, {}, { sql, clock: new ManualClock() });
  for (let i = 0; i <= history; i++) {
    await session.runtime.start({ message: `add ${i}` });
    await session.drain();
  }
  sql.statements = [];
  await session.runtime.start({ message: "add" });
  await session.drain();
  expect(session.runtime.status().status).toBe("completed");
  return sql.statements;
}

describe("SQL statements per step", () => {
  it("are the same after 2 and after 51 earlier runs, and the run record is read once per action", async () => {
    const short = await statementsOfRun(1);
    const long = await statementsOfRun(50);
    expect(long.length).toBe(short.length);
    const steps = 2;
    // 63 per step before the driver followed run status through the ledger; ~51 before a run's
    // actions went on under one claim (main at ef3dae5); 33.5 since. It must not grow again.
    expect(short.length / steps).toBeLessThanOrEqual(33.5);
    // Due work: a run's actions go on under the one claim of its row (one write per action
    // boundary at most, DueWork.continue), not a release, a claim and the pump's re-reads each time.
    const dueWork = short.filter((q) => /\bdue_work\b/.test(q));
    expect(dueWork.length).toBeLessThanOrEqual(9);
    // A step is up to three actions (model call, tools, step end), each one claim of the run's
    // due work; each reads the run once (it was read before every commit: ~15 reads per step).
    const runReads = short.filter((q) =>
      /^SELECT run_id, .* FROM runs WHERE run_id = \?$/s.test(q),
    );
    expect(runReads.length / steps).toBeLessThanOrEqual(3);
    // Due work is asked about once per change, not after every appended event.
    const appends = short.filter((q) => q.startsWith("INSERT INTO events")).length;
    const wakeChecks = short.filter((q) => q.startsWith("SELECT min(coalesce(lease_until")).length;
    expect(wakeChecks).toBeLessThan(appends);
  });
});

describe("a step reads no event back", () => {
  it("the run's model options and metadata come from the runs projection, not its run.started", async () => {
    const reads = (await statementsOfRun(1)).filter((q) => /\bFROM events\b/.test(q));
    expect(reads).toEqual([]);
  });
});
