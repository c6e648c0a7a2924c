/**
 * A tool's `providerOptions` and `inputExamples` reach Anthropic as `streamText` sends them:
 * the real `@ai-sdk/anthropic` puts `providerOptions.anthropic.cacheControl` in the tool's
 * `cache_control` (a prompt cache breakpoint after the tool definitions) and `inputExamples`
 * in its `input_examples`, with the `advanced-tool-use-2025-11-20` beta. The request our
 * agent sends the loopback Anthropic fake has the same `tools` and beta as the request the
 * AI SDK's own `streamText` sends it for the same tool, in Node.
 */
import { createAnthropic } from "@ai-sdk/anthropic";
import { defineAgent, defineTool } from "@durable-agents/core";
import { createTestSession } from "@durable-agents/core/testing";
import { streamText, tool } from "ai";
import { afterAll, beforeAll, expect, it } from "vitest";
import * as z from "zod";
import { startAnthropicFake } from "../support/provider-fakes/anthropic-fake.ts";
import type { FakeProvider, RecordedRequest } from "../support/provider-fakes/fake-server.ts";

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startAnthropicFake();
});
afterAll(() => fake.close());

const model = () =>
  createAnthropic({ apiKey: "test", baseURL: `${fake.baseUrl}/v1` })("claude-haiku-4-5");
const input = z.object({ word: z.string() });
const options = {
  description: "Looks a word up",
  inputExamples: [{ input: { word: "durable" } }],
  providerOptions: { anthropic: { cacheControl: { type: "ephemeral" } } },
};
/** The AI SDK tool; `streamText` gets it in every test, the agent in the first. */
const lookup = tool({ ...options, inputSchema: input, execute: async ({ word }) => word });

/** The request `send` makes of the fake (its first). */
async function requestOf(send: () => Promise<void>): Promise<RecordedRequest> {
  const before = fake.requests.length;
  await send();
  const request = fake.requests[before];
  expect(request?.status).toBe(200);
  return request as RecordedRequest;
}

const streamTextRequest = () =>
  requestOf(async () => {
    await streamText({ model: model(), tools: { lookup }, prompt: "hello" }).consumeStream();
  });

const agentRequest = (tools: Parameters<typeof defineAgent>[0]["tools"]) =>
  requestOf(async () => {
    const s = createTestSession(defineAgent({ name: "words", system: "", tools, model: model() }));
    await s.runtime.start({ message: "hello" });
    await s.drain();
  });

it("sends an AI SDK tool's cacheControl and inputExamples as streamText does", async () => {
  const theirs = await streamTextRequest();
  expect(theirs.body.tools).toEqual([
    expect.objectContaining({
      name: "lookup",
      cache_control: { type: "ephemeral" },
      input_examples: [{ word: "durable" }],
    }),
  ]);
  expect(theirs.headers["anthropic-beta"]).toContain("advanced-tool-use-2025-11-20");
  const ours = await agentRequest({ lookup });
  expect(ours.body.tools).toEqual(theirs.body.tools);
  expect(ours.headers["anthropic-beta"]).toBe(theirs.headers["anthropic-beta"]);
});

it("sends a defineTool tool's cacheControl and inputExamples as streamText does", async () => {
  const theirs = await streamTextRequest();
  const defined = defineTool({
    ...options,
    name: "lookup",
    input,
    effect: "pure",
    execute: ({ word }) => word,
  });
  const ours = await agentRequest([defined]);
  expect(ours.body.tools).toEqual(theirs.body.tools);
  expect(ours.headers["anthropic-beta"]).toBe(theirs.headers["anthropic-beta"]);
});
