/**
 * SQL statements per step: counted, not timed (bench/step-cost.ts times them). The count is
 * deterministic for a scripted run, and it must not grow with the conversation's length.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/testing/manual-clock.ts";
import { createTestSession } from "../src/testing/test-session.ts";
import { CountingSqlPort } from "./counting-sql.ts";
import { mathAgent } from "./fixtures.ts";

/** The reads of one run's record by its id (`getRun`). */
function runRecordReads(statements: string[]): string[] {
  return statements.filter((q) => /^SELECT run_id, .* FROM runs WHERE run_id = \?$/s.test(q));
}

/** The reads of a step's tool calls (`stepToolCalls`). */
function stepCallReads(statements: string[]): string[] {
  return statements.filter((q) =>
    q.startsWith("SELECT * FROM tool_calls WHERE run_id = ? AND step"),
  );
}

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
  it("are the same after 2 and after 51 earlier runs, and no step reads its run's record or calls", async () => {
    const short = await statementsOfRun(1);
    const long = await statementsOfRun(50);
    expect(long.length).toBe(short.length);
    const steps = 2;
    // 63 per step before the driver followed run status through the ledger; ~51 before a run's
    // actions went on under one claim (main at ef3dae5); 33.5 before the run's record and its
    // step's calls came from their writes (agent/run-records.ts); 30 before a streamed answer's
    // deltas were dropped once at the run's end instead of at each model.completed; 29.5 since.
    // It must not grow again.
    expect(short.length / steps).toBeLessThanOrEqual(29.5);
    // Due work: a run's actions go on under the one claim of its row (one write per action
    // boundary at most, DueWork.continue), not a release, a claim and the pump's re-reads each time.
    const dueWork = short.filter((q) => /\bdue_work\b/.test(q));
    expect(dueWork.length).toBeLessThanOrEqual(9);
    // The run's own record and its step's calls are read by no step of a run this object
    // started: the driver keeps them equal to their rows from the rows each append's projections
    // wrote (agent/run-records.ts). Before: ~15 reads of the run per step (one before every
    // commit), then 3 (one per action), and the step's calls twice (its tools, its end).
    expect(runRecordReads(short)).toEqual([]);
    expect(stepCallReads(short)).toEqual([]);
    // Due work is asked about once per change, not after every appended event.
    const appends = short.filter((q) => q.startsWith("INSERT INTO events")).length;
    const wakeChecks = short.filter((q) => q.startsWith("SELECT min(coalesce(lease_until")).length;
    expect(wakeChecks).toBeLessThan(appends);
  });
});

describe("a fresh object (eviction, crash, deploy) reads a running run", () => {
  it("once for the whole run, and its steps' calls not at all (their rows come from their writes)", async () => {
    const sql = new CountingSqlPort();
    const clock = new ManualClock();
    const before = createTestSession(mathAgent, {}, { sql, clock });
    await before.runtime.start({ message: "add" });
    // The run started, its first step is due: the object goes before it runs.
    const after = before.restart();
    sql.statements = [];
    await after.runtime.alarm(); // The platform's alarm, armed by the object that went.
    await after.drain();
    expect(after.runtime.status().status).toBe("completed");
    expect(runRecordReads(sql.statements)).toHaveLength(1);
    expect(stepCallReads(sql.statements)).toHaveLength(0);
  });
});

describe("a step reads no event back", () => {
  it("the run's model options and metadata come from the runs projection, not its run.started", async () => {
    const reads = (await statementsOfRun(1)).filter((q) => /\bFROM events\b/.test(q));
    expect(reads).toEqual([]);
  });
});
