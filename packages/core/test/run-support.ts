/**
 * Test pieces shared by core's tests and the workers tests (packages/cloudflare/test): it
 * imports core's public index only (no `node:*`, no test session), so workerd can load it.
 */
import * as z from "zod";
import {
  defineAgent,
  defineTool,
  type Logger,
  type SpanRecord,
  scriptedModel,
  type TraceSink,
} from "../src/index.ts";

/** The system prompt of the adder agents of these tests. */
export const ADDER_SYSTEM = "You add numbers.";

/**
 * Calls `add(2, 3)` (irreversible: `executions.n` counts how many times it ran), then answers
 * with its result. Two steps: the call, the answer.
 */
export function irreversibleAdder(executions: { n: number }) {
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
    system: ADDER_SYSTEM,
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

/**
 * A trace sink whose `record` throws ("the sink is down") the first time it gets the span named
 * `span`, and records nothing; `thrown` counts the spans of that name it got.
 */
export function sinkFailingOnce(span: string): {
  readonly sink: TraceSink;
  readonly thrown: number;
} {
  let thrown = 0;
  const sink: TraceSink = {
    record: (record: SpanRecord) => {
      if (record.name === span && thrown++ === 0) throw new Error("the sink is down");
    },
    flush: async () => {},
  };
  return {
    sink,
    get thrown() {
      return thrown;
    },
  };
}

/** A logger that keeps what it was given at `error` (message and fields) in `errors`. */
export function recordingLogger() {
  const errors: { message: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (message, fields) => errors.push({ message, fields }),
  };
  return { logger, errors };
}

/** The steps a ledger's events say completed (`step.completed`), in ledger order. */
export function stepsCompleted(
  events: readonly { readonly kind: string; readonly data: unknown }[],
) {
  return events
    .filter((e) => e.kind === "step.completed")
    .map((e) => (e.data as { step: number }).step);
}
