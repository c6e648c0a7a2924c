/**
 * `strict` on a tool reaches the model: `tool({ strict: true })` from `ai` (adapted by
 * `fromAiSdkTool`) and `defineTool({ strict })` are sent as the AI SDK sends them, the `strict`
 * of `LanguageModelV4FunctionTool` (OpenAI strict function calling); a tool that does not say
 * is sent without it (the provider's default).
 */
import type { LanguageModelV4, LanguageModelV4CallOptions } from "@ai-sdk/provider";
import { tool } from "ai";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { type ScriptTurn, scriptedModel } from "../model/scripted-model.ts";
import { createTestSession } from "../testing/test-session.ts";
import { defineAgent } from "./define-agent.ts";
import { defineTool } from "./define-tool.ts";

/** A scripted model (`turns`), recording the tools of every call it gets in `calls`. */
function recording(
  calls: LanguageModelV4CallOptions["tools"][],
  turns: readonly ScriptTurn[],
): LanguageModelV4 {
  const model = scriptedModel({ turns });
  return {
    ...model,
    doStream: (options) => {
      calls.push(options.tools);
      return model.doStream(options);
    },
  };
}

describe("a tool's strict flag", () => {
  it("reaches the model for tool({ strict: true }) from ai, on every call; absent when unset", async () => {
    const calls: LanguageModelV4CallOptions["tools"][] = [];
    const weather = tool({
      description: "Weather in a city",
      inputSchema: z.object({ city: z.string() }),
      strict: true,
      execute: async ({ city }) => ({ city, tempC: 21 }),
    });
    const loose = tool({
      description: "Anything",
      inputSchema: z.object({ q: z.string() }),
      execute: async ({ q }) => q,
    });
    const agent = defineAgent({
      name: "strict",
      system: "",
      tools: { weather, loose },
      model: recording(calls, [
        { toolCalls: [{ name: "weather", args: { city: "Oslo" } }] },
        { text: "Sunny." },
      ]),
    });
    const t = createTestSession(agent);
    await t.runtime.start({ message: "weather in Oslo?" });
    await t.drain();
    expect(t.runtime.status().status).toBe("completed");
    expect(calls).toHaveLength(2);
    for (const tools of calls) {
      expect(tools?.find((s) => s.name === "weather")).toMatchObject({ strict: true });
      expect(tools?.find((s) => s.name === "loose")).not.toHaveProperty("strict");
    }
  });

  it("reaches the model for defineTool({ strict: false }) too", async () => {
    const calls: LanguageModelV4CallOptions["tools"][] = [];
    const agent = defineAgent({
      name: "lenient",
      system: "",
      tools: [
        defineTool({
          name: "count",
          description: "Counts",
          input: z.object({ n: z.number() }),
          effect: "pure",
          strict: false,
          execute: ({ n }) => n,
        }),
      ],
      model: recording(calls, [{ text: "Nothing to count." }]),
    });
    const t = createTestSession(agent);
    await t.runtime.start({ message: "go" });
    await t.drain();
    expect(calls[0]?.find((s) => s.name === "count")).toMatchObject({ strict: false });
  });
});
