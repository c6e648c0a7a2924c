import type { LanguageModelV4, LanguageModelV4CallOptions } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { defineAgent, latestRun, type ScriptTurn, scriptedModel } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { calculator } from "./fixtures.ts";

/** The scripted model, recording the options of every call. */
function recording(modelId: string, turns: ScriptTurn[]) {
  const calls: LanguageModelV4CallOptions[] = [];
  const base = scriptedModel({ modelId, turns });
  const model: LanguageModelV4 = {
    ...base,
    doStream: (options) => {
      calls.push(options);
      return base.doStream(options);
    },
  };
  return { model, calls };
}

describe("the model call the AI SDK user expects", () => {
  it("passes the agent's modelOptions to every call, and prepareStep changes one step's model, tools and settings", async () => {
    const first = recording("first", [
      { toolCalls: [{ name: "calculator", args: { a: 1, b: 2 } }] },
    ]);
    const second = recording("second", [{ text: "3" }]);
    const agent = defineAgent({
      name: "opts",
      system: "Be brief.",
      model: first.model,
      tools: [calculator],
      modelOptions: {
        temperature: 0.2,
        maxOutputTokens: 512,
        topP: 0.9,
        stopSequences: ["END"],
        toolChoice: "required",
        providerOptions: { openai: { user: "u1" } },
        headers: { "x-team": "agents" },
      },
      prepareStep: ({ step }) =>
        step === 2
          ? {
              model: second.model,
              activeTools: [],
              toolChoice: "none",
              temperature: 0,
              system: "Answer.",
            }
          : undefined,
    });
    const s = createTestSession(agent);
    await s.runtime.start({ message: "1+2?" });
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "completed", output: "3" });
    expect(first.calls[0]).toMatchObject({
      temperature: 0.2,
      maxOutputTokens: 512,
      topP: 0.9,
      stopSequences: ["END"],
      toolChoice: { type: "required" },
      providerOptions: { openai: { user: "u1" } },
      headers: { "x-team": "agents" },
      tools: [expect.objectContaining({ name: "calculator" })],
    });
    expect(second.calls[0]).toMatchObject({
      temperature: 0,
      maxOutputTokens: 512,
      toolChoice: { type: "none" },
      tools: undefined,
    });
    expect(second.calls[0]?.prompt[0]).toEqual({ role: "system", content: "Answer." });
    const models = s.runtime.ledger
      .read(0, 100)
      .filter((e) => e.kind === "model.completed")
      .map((e) => (e.data as { model: string }).model);
    expect(models).toEqual(["scripted:first", "scripted:second"]);
  });

  it("refuses settings no provider takes when the agent is defined", () => {
    expect(() =>
      defineAgent({
        name: "x",
        system: "",
        model: scriptedModel(),
        modelOptions: { maxOutputTokens: 0 },
      }),
    ).toThrow(/maxOutputTokens must be a positive integer/);
    expect(() =>
      defineAgent({
        name: "x",
        system: "",
        model: scriptedModel(),
        modelOptions: { temperature: Number.NaN },
      }),
    ).toThrow(/temperature must be a finite number/);
  });
});
