import { env, runInDurableObject } from "cloudflare:test";
import {
  defineAgent,
  defineTool,
  latestRun,
  runTracing,
  SessionRuntime,
  type SpanRecord,
  scriptedModel,
  systemClock,
} from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import * as z from "zod";
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
    let executions = 0;
    const add = defineTool({
      name: "add",
      description: "Adds two numbers",
      input: z.object({ a: z.number(), b: z.number() }),
      effect: "irreversible",
      execute: ({ a, b }) => {
        executions++;
        return a + b;
      },
    });
    const agent = defineAgent({
      name: "adder",
      system: "You add numbers.",
      tools: [add],
      model: scriptedModel({
        rules: [
          ({ turn, toolResults }) =>
            turn > 0
              ? { text: `The answer is ${toolResults[0]?.output}.` }
              : { text: "Adding.", toolCalls: [{ name: "add", args: { a: 2, b: 3 } }] },
        ],
      }),
    });
    let thrown = 0;
    const sink = {
      record: (span: SpanRecord) => {
        if (span.name === "step 1" && thrown++ === 0) throw new Error("the sink is down");
      },
      flush: async () => {},
    };
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
        tracing: { runs: runTracing(sink) },
      });
      await runtime.start({ message: "add 2 and 3" });
      for (let i = 0; i < 20 && wakeAt !== null; i++) await runtime.alarm();
      const sql = doSqlPort(state.storage);
      expect(latestRun(sql)?.status).toBe("completed");
      const completed = runtime.ledger
        .read(0)
        .filter((e) => e.kind === "step.completed")
        .map((e) => (e.data as { step: number }).step);
      expect(completed).toEqual([1, 2]);
      expect(executions).toBe(1);
      // The sink threw once, and step 1's span was recorded once, after it.
      expect(thrown).toBe(1);
    });
  });
});
