import { describe, expect, it } from "vitest";
import * as z from "zod";
import { defineAgent, latestRun, scriptedModel } from "../src/index.ts";
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
    let seen: unknown;
    const base = scriptedModel({ turns: [{ text: '{"sum":1,"explanation":"x"}' }] });
    const agent = defineAgent({
      name: "spy",
      system: "",
      outputSchema: answer,
      model: {
        ...base,
        doStream: (o) => {
          seen = o.responseFormat;
          return base.doStream(o);
        },
      },
    });
    const s = createTestSession(agent);
    await s.runtime.start({ message: "x" });
    await s.drain();
    expect(seen).toMatchObject({
      type: "json",
      schema: { type: "object", required: ["sum", "explanation"] },
    });
  });
});
