/**
 * What a tool sends the model (`LanguageModelV4FunctionTool`) is what the AI SDK's own
 * `streamText` sends for it: `strict` (OpenAI strict function calling), `inputExamples` and
 * `providerOptions` (Anthropic's `cacheControl` on a tool), for `tool({...})` from `ai`
 * (adapted by `fromAiSdkTool`) and for `defineTool`. The `tools` entry of our model call is
 * compared with the one the real `streamText` gives a recording `MockLanguageModelV4` from
 * `ai/test` for the same tool; a tool that does not say is sent without the field.
 */
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4FunctionTool,
} from "@ai-sdk/provider";
import type { InferToolSetContext } from "@ai-sdk/provider-utils";
import { streamText, type ToolSet, tool } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { type ScriptTurn, scriptedModel } from "../model/scripted-model.ts";
import { createTestSession } from "../testing/test-session.ts";
import type { AiSdkTool } from "./ai-sdk-tool.ts";
import { defineAgent } from "./define-agent.ts";
import { type AnyTool, defineTool } from "./define-tool.ts";

type Tools = LanguageModelV4CallOptions["tools"];

/** A scripted model (`turns`), recording the tools of every call it gets in `calls`. */
function recording(calls: Tools[], turns: readonly ScriptTurn[]): LanguageModelV4 {
  const model = scriptedModel({ turns });
  return {
    ...model,
    doStream: (options) => {
      calls.push(options.tools);
      return model.doStream(options);
    },
  };
}

/**
 * The `tools` of the one model call the AI SDK's `streamText` makes with `tools` (and its
 * `toolsContext`, if given).
 */
async function streamTextTools<T extends ToolSet>(
  tools: T,
  toolsContext?: InferToolSetContext<T>,
): Promise<Tools> {
  const model = new MockLanguageModelV4({
    doStream: async () => ({
      stream: new ReadableStream({
        start(controller) {
          controller.enqueue({ type: "text-start", id: "t" });
          controller.enqueue({ type: "text-delta", id: "t", delta: "ok" });
          controller.enqueue({ type: "text-end", id: "t" });
          controller.enqueue({
            type: "finish",
            finishReason: { unified: "stop", raw: "stop" },
            usage: {
              inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
              outputTokens: { total: 1, text: 1, reasoning: 0 },
            },
          });
          controller.close();
        },
      }),
    }),
  });
  await streamText({ model, tools, toolsContext, prompt: "go" }).consumeStream();
  expect(model.doStreamCalls).toHaveLength(1);
  return model.doStreamCalls[0]?.tools;
}

/** The `tools` of the first model call of an agent with `tools`. */
async function agentTools(tools: readonly AnyTool[] | Record<string, AiSdkTool>): Promise<Tools> {
  const calls: Tools[] = [];
  const agent = defineAgent({
    name: "spec",
    system: "",
    tools,
    model: recording(calls, [{ text: "ok" }]),
  });
  const t = createTestSession(agent);
  await t.runtime.start({ message: "go" });
  await t.drain();
  expect(t.runtime.status().status).toBe("completed");
  return calls[0];
}

function named(tools: Tools, name: string): LanguageModelV4FunctionTool | undefined {
  return tools?.find((s): s is LanguageModelV4FunctionTool => s.name === name);
}

const cityInput = z.object({ city: z.string(), days: z.number().optional() });
/** Anthropic's prompt cache breakpoint on a tool (`@ai-sdk/anthropic` reads it as `cache_control`). */
const cacheControl = { anthropic: { cacheControl: { type: "ephemeral" } } } as const;
const examples = [{ input: { city: "Oslo" } }, { input: { city: "Lima", days: 3 } }];

describe("a tool's inputExamples and providerOptions", () => {
  it("reach the model for tool({ inputExamples, providerOptions }) from ai as streamText sends them", async () => {
    const weather = tool({
      description: "Weather in a city",
      inputSchema: cityInput,
      inputExamples: examples,
      providerOptions: cacheControl,
      execute: async ({ city }) => ({ city, tempC: 21 }),
    });
    const theirs = named(await streamTextTools({ weather }), "weather");
    expect(theirs).toMatchObject({ inputExamples: examples, providerOptions: cacheControl });
    expect(named(await agentTools({ weather }), "weather")).toEqual(theirs);
  });

  it("reach the model for defineTool({ inputExamples, providerOptions }) as streamText sends the same tool()", async () => {
    const weather = defineTool({
      name: "weather",
      description: "Weather in a city",
      input: cityInput,
      effect: "pure",
      inputExamples: examples,
      providerOptions: cacheControl,
      strict: true,
      execute: ({ city }) => ({ city, tempC: 21 }),
    });
    const same = tool({
      description: "Weather in a city",
      inputSchema: cityInput,
      inputExamples: examples,
      providerOptions: cacheControl,
      strict: true,
      execute: async ({ city }) => ({ city, tempC: 21 }),
    });
    const theirs = named(await streamTextTools({ weather: same }), "weather");
    expect(theirs).toMatchObject({ inputExamples: examples, providerOptions: cacheControl });
    expect(named(await agentTools([weather]), "weather")).toEqual(theirs);
  });

  it("are typed in defineTool: an example's input has the tool's input type", () => {
    const base = {
      name: "weather",
      description: "Weather in a city",
      input: cityInput,
      effect: "pure",
      execute: (input: z.infer<typeof cityInput>) => input.city,
    } as const;
    defineTool({ ...base, inputExamples: [{ input: { city: "Oslo", days: 2 } }] });
    // @ts-expect-error: `city` is a string in the input schema
    defineTool({ ...base, inputExamples: [{ input: { city: 7 } }] });
    // @ts-expect-error: provider options are JSON objects by provider
    defineTool({ ...base, providerOptions: { anthropic: "ephemeral" } });
  });

  it("are absent for a tool that does not say, as streamText leaves them out", async () => {
    const plain = tool({
      description: "Anything",
      inputSchema: z.object({ q: z.string() }),
      execute: async ({ q }) => q,
    });
    const theirs = named(await streamTextTools({ plain }), "plain");
    expect(theirs).not.toHaveProperty("inputExamples");
    expect(theirs).not.toHaveProperty("providerOptions");
    expect(named(await agentTools({ plain }), "plain")).toEqual(theirs);
  });
});

describe("a tool's description", () => {
  it("of tool() from ai without one, is left out as streamText leaves it out", async () => {
    const bare = tool({ inputSchema: z.object({ q: z.string() }), execute: async ({ q }) => q });
    const theirs = named(await streamTextTools({ bare }), "bare");
    expect(theirs).not.toHaveProperty("description");
    expect(named(await agentTools({ bare }), "bare")).toEqual(theirs);
  });

  it("of tool() from ai, a function of the tool's context, is sent as streamText sends it for the context its execute gets ({})", async () => {
    const weather = tool({
      description: ({ context }: { context: { unit?: string } }) =>
        `Weather in a city, in ${context.unit ?? "Celsius"}`,
      inputSchema: cityInput,
      execute: async ({ city }) => ({ city, tempC: 21 }),
    });
    const theirs = named(await streamTextTools({ weather }, { weather: {} }), "weather");
    expect(theirs?.description).toBe("Weather in a city, in Celsius");
    expect(named(await agentTools({ weather }), "weather")).toEqual(theirs);
  });
});

describe("a tool's strict flag", () => {
  it("reaches the model for tool({ strict: true }) from ai, on every call; absent when unset", async () => {
    const calls: Tools[] = [];
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
      expect(named(tools, "weather")).toMatchObject({ strict: true });
      expect(named(tools, "loose")).not.toHaveProperty("strict");
    }
    expect(named(calls[0], "weather")).toEqual(
      named(await streamTextTools({ weather }), "weather"),
    );
  });

  it("reaches the model for defineTool({ strict: false }) too", async () => {
    const count = defineTool({
      name: "count",
      description: "Counts",
      input: z.object({ n: z.number() }),
      effect: "pure",
      strict: false,
      execute: ({ n }) => n,
    });
    expect(named(await agentTools([count]), "count")).toMatchObject({ strict: false });
  });
});
