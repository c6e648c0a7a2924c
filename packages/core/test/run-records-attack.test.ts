/**
 * A reviewer's attack on the run driver's kept run records (run-records.ts): whatever happens
 * between two actions, a decision must see the run and its step calls as their rows are, or it
 * repeats (or skips) an effect (docs/guarantees.md).
 */
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  defineAgent,
  defineTool,
  latestRun,
  runTracing,
  type SpanRecord,
  scriptedModel,
} from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";

function agent(executions: { n: number }) {
  const add = defineTool({
    name: "add",
    description: "Adds two numbers",
    input: z.object({ a: z.number(), b: z.number() }),
    effect: "irreversible",
    execute: ({ a, b }) => {
      executions.n++;
      return a + b;
    },
  });
  return defineAgent({
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
}

describe("a trace sink that throws after the commit (its record, in the tracer's append listener)", () => {
  it("loses the span only: no append throws, the step is completed once, the failure is logged", async () => {
    const executions = { n: 0 };
    let thrown = 0;
    const sink = {
      record: (span: SpanRecord) => {
        // The step span, recorded by the tracer's append listener after `step.completed` commits.
        if (span.name === "step 1" && thrown++ === 0) throw new Error("the sink is down");
      },
      flush: async () => {},
    };
    const errors: { message: string; fields?: Record<string, unknown> }[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (message: string, fields?: Record<string, unknown>) =>
        errors.push({ message, fields }),
    };
    const s = createTestSession(agent(executions), {
      tracing: { runs: runTracing(sink) },
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
    expect(thrown).toBeGreaterThan(0);
    expect(latestRun(s.sql)?.status).toBe("completed");
    const completed = s.runtime.ledger
      .read(0)
      .filter((e) => e.kind === "step.completed")
      .map((e) => (e.data as { step: number }).step);
    expect(completed).toEqual([1, 2]);
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
