/**
 * A reviewer's attack on the run driver's kept run records (run-records.ts): whatever happens
 * between two actions, a decision must see the run and its step calls as their rows are, or it
 * repeats (or skips) an effect (docs/guarantees.md).
 */
import { describe, expect, it } from "vitest";
import { latestRun, runTracing } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import {
  irreversibleAdder,
  recordingLogger,
  sinkFailingOnce,
  stepsCompleted,
} from "./run-support.ts";

describe("a trace sink that throws after the commit (its record, in the tracer's append listener)", () => {
  it("loses the span only: no append throws, the step is completed once, the failure is logged", async () => {
    const executions = { n: 0 };
    // The step span, recorded by the tracer's append listener after `step.completed` commits.
    const failing = sinkFailingOnce("step 1");
    const { logger, errors } = recordingLogger();
    const s = createTestSession(irreversibleAdder(executions), {
      tracing: { runs: runTracing(failing.sink) },
      logger,
    });
    // The tracer records from its append listener after the commit: a sink that throws there
    // must lose its span, never the command that appended (run-tracer.ts invariant 7).
    const appended = s.runtime.ledger;
    const append = appended.append.bind(appended);
    let appendThrew = 0;
    appended.append = ((...args: Parameters<typeof append>) => {
      try {
        return append(...args);
      } catch (error) {
        appendThrew++;
        throw error;
      }
    }) as typeof append;
    await s.runtime.start({ message: "add 2 and 3" });
    for (let i = 0; i < 20 && latestRun(s.sql)?.status === "running"; i++) {
      await s.drain();
      s.clock.advance(60_000);
    }
    expect(failing.thrown).toBeGreaterThan(0);
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(stepsCompleted(s.runtime.ledger.read(0))).toEqual([1, 2]);
    expect(executions.n).toBe(1);
    expect(appendThrew).toBe(0);
    expect(errors).toEqual([
      {
        message: "trace sink failed",
        fields: expect.objectContaining({ span: "step 1", error: "the sink is down" }),
      },
    ]);
  });
});
