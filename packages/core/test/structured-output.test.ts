import { asSchema } from "ai";
import { type as ark } from "arktype";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import * as zm from "zod/mini";
import * as z3 from "zod/v3";
import { defineAgent, latestRun, scriptedModel, withJsonSchema } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { calculator } from "./fixtures.ts";

const answer = z.object({ sum: z.number(), explanation: z.string() });

function agentSaying(final: string) {
  return defineAgent({
    name: "structured",
    system: "",
    tools: [calculator],
    outputSchema: answer,
    model: scriptedModel({
      rules: [
        ({ turn }) =>
          turn === 0
            ? { toolCalls: [{ name: "calculator", args: { a: 2, b: 3 } }] }
            : { text: final },
      ],
    }),
  });
}

/**
 * Runs "x" on an agent (`config`, with a model that answers `text` at every turn) and returns
 * the session and the `responseFormat` the model was asked with.
 */
async function runSeeing(
  text: string,
  config: Omit<Parameters<typeof defineAgent>[0], "model" | "system">,
) {
  let seen: unknown;
  const base = scriptedModel({ rules: [() => ({ text })] });
  const model = {
    ...base,
    doStream: (o: Parameters<typeof base.doStream>[0]) => {
      seen = o.responseFormat;
      return base.doStream(o);
    },
  };
  const s = createTestSession(defineAgent({ system: "", ...config, model }));
  await s.runtime.start({ message: "x" });
  await s.drain();
  return { s, seen };
}

describe("structured output with tools", () => {
  it("uses tools, then ends with the parsed, validated object as the run's output", async () => {
    const s = createTestSession(agentSaying('```json\n{"sum": 5, "explanation": "2+3"}\n```'));
    await s.runtime.start({ message: "add" });
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({
      status: "completed",
      output: { sum: 5, explanation: "2+3" },
    });
  });

  it("fails the run with invalid_output when the answer does not match", async () => {
    const s = createTestSession(agentSaying('{"sum": "five"}'));
    await s.runtime.start({ message: "add" });
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "failed", error: { code: "invalid_output" } });
  });

  it("asks the model for JSON with the schema", async () => {
    const { seen } = await runSeeing('{"sum":1,"explanation":"x"}', {
      name: "spy",
      outputSchema: answer,
    });
    expect(seen).toMatchObject({
      type: "json",
      schema: { type: "object", required: ["sum", "explanation"] },
    });
  });
});

describe("stateSchema and outputSchema take any Standard Schema, as tool inputs do", () => {
  /** A hand-written Standard Schema (v1) without JSON Schema: `{ n: number }`. */
  const handWritten = {
    "~standard": {
      version: 1,
      vendor: "hand",
      validate: (value: unknown) =>
        typeof (value as { n?: unknown })?.n === "number"
          ? { value }
          : { issues: [{ message: "n must be a number", path: ["n"] }] },
    },
  } as const;

  it("a zod/v3 or hand-written stateSchema checks the initial state and every write", () => {
    for (const stateSchema of [z3.object({ n: z3.number() }), handWritten]) {
      const base = { name: "st", system: "", model: scriptedModel({ turns: [] }), stateSchema };
      expect(() => defineAgent({ ...base, initialState: { n: "x" } })).toThrow(
        /initialState does not match stateSchema: n: /,
      );
      const s = createTestSession(defineAgent({ ...base, initialState: { n: 1 } }));
      expect(() => s.runtime.state.compareAndSet({ n: "two" }, 0)).toThrow(
        expect.objectContaining({ status: 400, message: expect.stringContaining("n: ") }),
      );
      expect(s.runtime.state.compareAndSet({ n: 2 }, 0)).toMatchObject({ version: 1 });
    }
  });

  it("a zod/v3 outputSchema (through withJsonSchema) asks for its JSON Schema and checks the answer", async () => {
    const { s, seen } = await runSeeing('{"sum":"five"}', {
      name: "v3",
      outputSchema: withJsonSchema(z3.object({ sum: z3.number() })),
    });
    expect(seen).toMatchObject({ type: "json", schema: { type: "object", required: ["sum"] } });
    expect(latestRun(s.sql)).toMatchObject({
      status: "failed",
      error: { code: "invalid_output", message: expect.stringContaining("sum: ") },
    });
  });

  it("a zod/mini or zod/v3 outputSchema without withJsonSchema fails at defineAgent, naming it", () => {
    // They carry no JSON Schema generator; the runtime does not import one (84 KiB of every
    // Worker: docs/benchmarks.md, "The tool-schema path out of a tool-less Worker").
    const base = { name: "bare", system: "", model: scriptedModel({ turns: [] }) };
    for (const outputSchema of [zm.object({ n: zm.number() }), z3.object({ n: z3.number() })])
      expect(() => defineAgent({ ...base, outputSchema })).toThrow(
        /agent "bare": its outputSchema .*withJsonSchema\(schema\) from "@durable-agents\/core"/,
      );
    const mini = withJsonSchema(zm.object({ n: zm.number() }));
    expect(defineAgent({ ...base, outputSchema: mini }).outputSchema).toBe(mini);
  });

  it("an arktype outputSchema or stateSchema (a callable Standard Schema) is taken, as docs/api.md says", async () => {
    const outputSchema = ark({ total: "number" });
    const { s, seen } = await runSeeing('{"total":"many"}', {
      name: "ark",
      outputSchema,
      stateSchema: ark({ count: "number" }),
      initialState: { count: 0 },
    });
    expect(seen).toEqual({ type: "json", schema: asSchema(outputSchema).jsonSchema });
    expect(latestRun(s.sql)).toMatchObject({
      status: "failed",
      error: { code: "invalid_output", message: expect.stringContaining("total: ") },
    });
    expect(() => s.runtime.state.compareAndSet({ count: "two" }, 0)).toThrow(
      expect.objectContaining({ status: 400, message: expect.stringContaining("count: ") }),
    );
  });

  it("refuses at defineAgent what it cannot use, saying what is accepted", () => {
    const base = { name: "bad", system: "", model: scriptedModel({ turns: [] }) };
    // No JSON Schema to ask the model with.
    expect(() => defineAgent({ ...base, outputSchema: handWritten })).toThrow(
      /outputSchema .*JSON Schema/,
    );
    const notASchema = { parse: () => 1 } as unknown as typeof handWritten;
    expect(() => defineAgent({ ...base, stateSchema: notASchema })).toThrow(
      /stateSchema must be a Standard Schema/,
    );
  });
});
