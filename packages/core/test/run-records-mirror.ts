import { expect } from "vitest";
import { RunRecords } from "../src/agent/run-records.ts";
import { getRun, stepToolCalls } from "../src/index.ts";
import type { TestSession } from "../src/testing/index.ts";

/**
 * A `RunRecords` (the run driver's kept run records, run-records.ts) following a test session's
 * ledger from its last listener on, checked against the rows: `check` compares every run it
 * follows (and its step calls) with a fresh read of `runs` and `tool_calls`, then follows every
 * run of the session that runs, for the next check. A restarted session needs a new mirror.
 */
export class KeptRecordsMirror {
  readonly #s: TestSession;
  readonly #records: RunRecords;
  /** How many kept records were compared with their rows. */
  compared = 0;

  constructor(s: TestSession) {
    this.#s = s;
    this.#records = new RunRecords(s.sql, s.runtime.ledger, () => {});
    this.check();
  }

  /** A mismatch seen inside a step (`checkInside`), thrown by the next `check`. */
  #failure: { readonly error: unknown } | undefined;

  /**
   * `check` inside a step (at a fault point): an error thrown there would be taken for a crash
   * of the step and retried, so a mismatch is kept for the next `check` to throw.
   */
  checkInside(): void {
    try {
      this.check();
    } catch (error) {
      this.#failure ??= { error };
    }
  }

  check(): void {
    if (this.#failure) throw this.#failure.error;
    const { sql } = this.#s;
    const records = this.#records;
    for (const { run_id: runId } of sql.exec<{ run_id: string }>("SELECT run_id FROM runs")) {
      if (records.follows(runId)) {
        this.compared++;
        const kept = records.run(runId);
        expect(kept, `run ${runId} as kept`).toEqual(getRun(sql, runId));
        if (kept?.phase === "tools")
          expect(records.stepCalls(kept), `step calls of ${runId} as kept`).toEqual(
            stepToolCalls(sql, runId, kept.step),
          );
      }
      const run = records.run(runId);
      if (run?.phase === "tools") records.stepCalls(run);
    }
  }
}
