/**
 * `tool({ strict: true })` from `ai` reaches OpenAI as `streamText` sends it: the real
 * `@ai-sdk/openai` chat model puts the tool's `strict` in the request's `function.strict`
 * (OpenAI strict function calling), here against the loopback OpenAI fake, in Node.
 */
import { createOpenAI } from "@ai-sdk/openai";
import { defineAgent } from "@durable-agents/core";
import { createTestSession } from "@durable-agents/core/testing";
import { tool } from "ai";
import { afterAll, beforeAll, expect, it } from "vitest";
import * as z from "zod";
import type { FakeProvider } from "../support/provider-fakes/fake-server.ts";
import { startOpenAIFake } from "../support/provider-fakes/openai-fake.ts";

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startOpenAIFake();
});
afterAll(() => fake.close());

interface FunctionTool {
  function: { name: string; strict?: boolean };
}

it("sends a strict AI SDK tool with function.strict: true, and one that does not say without it", async () => {
  const lookup = tool({
    description: "Looks a word up",
    inputSchema: z.object({ word: z.string() }),
    strict: true,
    execute: async ({ word }) => ({ word, found: true }),
  });
  const note = tool({
    description: "Takes a note",
    inputSchema: z.object({ text: z.string() }),
    execute: async ({ text }) => text,
  });
  const agent = defineAgent({
    name: "strict",
    system: "You look words up.",
    tools: { lookup, note },
    model: createOpenAI({ apiKey: "test", baseURL: `${fake.baseUrl}/v1` }).chat("gpt-4o-mini"),
  });
  const s = createTestSession(agent);
  const before = fake.requests.length;
  await s.runtime.start({ message: "hello" });
  await s.drain();
  const request = fake.requests[before];
  expect(request?.status).toBe(200);
  const tools = request?.body.tools as FunctionTool[];
  expect(tools.find((t) => t.function.name === "lookup")?.function.strict).toBe(true);
  expect(tools.find((t) => t.function.name === "note")?.function).not.toHaveProperty("strict");
});
