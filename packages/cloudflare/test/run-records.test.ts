import { env, runInDurableObject } from "cloudflare:test";
import { latestRun, runTracing, SessionRuntime, systemClock } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { irreversibleAdder, sinkFailingOnce, stepsCompleted } from "../../core/test/run-support.ts";
import { doSqlPort } from "../src/index.ts";

/**
 * The run driver keeps its running runs' records in memory, moved by every committed append
 * (core/src/agent/run-records.ts). On the real DO SQLite: a trace sink that fails once after a
 * step's commit loses that span only (run-tracer.ts invariant 7; and were any append listener
 * to throw, the others would still see the batch: ledger.ts invariant 6), so the driver's
 * record follows its row and nothing is repeated.
 */
describe("a run whose trace sink throws once after a step's commit, on DO SQLite", () => {
  it("completes each step once", async () => {
    const executions = { n: 0 };
    const agent = irreversibleAdder(executions);
    const failing = sinkFailingOnce("step 1");
    // A session object that never served a request: its storage is this runtime's alone.
    const stub = env.AGENTS.get(env.AGENTS.idFromName(`run-records/${crypto.randomUUID()}`));
    await runInDurableObject(stub, async (_instance, state) => {
      let wakeAt: number | null = null;
      const runtime = new SessionRuntime({
        sql: doSqlPort(state.storage),
        clock: systemClock,
        agent,
        sessionId: "s1",
        wake: (at) => {
          wakeAt = at;
        },
        // The failed decision is retried at once, not after a backoff.
        pump: { backoffBaseMs: 0, backoffMaxMs: 0 },
        tracing: { runs: runTracing(failing.sink) },
      });
      await runtime.start({ message: "add 2 and 3" });
      for (let i = 0; i < 20 && wakeAt !== null; i++) await runtime.alarm();
      const sql = doSqlPort(state.storage);
      expect(latestRun(sql)?.status).toBe("completed");
      expect(stepsCompleted(runtime.ledger.read(0))).toEqual([1, 2]);
      expect(executions.n).toBe(1);
      // The sink threw once, and step 1's span was recorded once, after it.
      expect(failing.thrown).toBe(1);
    });
  });
});
