/**
 * The loopback provider fakes (test/support/provider-fakes/) against the real AI SDK
 * providers, in Node: they refuse what the real APIs refuse, with the error the provider
 * package turns into an APICallError, and the quickstart agent runs against each of them
 * through the session runtime (in-process SQLite). The same agent under `wrangler dev` is in
 * providers.test.ts.
 */
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import type { LanguageModelV4, LanguageModelV4CallOptions } from "@ai-sdk/provider";
import {
  defineAgent,
  defineTrigger,
  latestRun,
  systemClock,
  TerminalError,
  usageView,
} from "@durable-agents/core";
import { createTestSession } from "@durable-agents/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import { assistant } from "../../examples/quickstart/src/assistant.ts";
import { classifyModelError } from "../../packages/core/src/agent/model-call.ts";
import {
  ANTHROPIC_FAKE_USAGE,
  startAnthropicFake,
} from "../support/provider-fakes/anthropic-fake.ts";
import type { FakeProvider } from "../support/provider-fakes/fake-server.ts";
import { OPENAI_FAKE_USAGE, startOpenAIFake } from "../support/provider-fakes/openai-fake.ts";

interface Case {
  readonly name: string;
  readonly start: () => Promise<FakeProvider>;
  readonly model: (baseUrl: string) => LanguageModelV4;
  readonly env: (baseUrl: string) => Record<string, string>;
  readonly usage: { cached: number; reasoning: number };
  readonly refusals: {
    schema: RegExp;
    missingResult: RegExp;
    empty: { prompt: LanguageModelV4CallOptions["prompt"]; error: RegExp };
  };
}

const user = (text: string) => ({
  role: "user" as const,
  content: [{ type: "text" as const, text }],
});

const cases: Case[] = [
  {
    name: "OpenAI chat completions",
    start: startOpenAIFake,
    model: (url) => createOpenAI({ apiKey: "test", baseURL: `${url}/v1` }).chat("gpt-4o-mini"),
    env: (url) => ({ OPENAI_API_KEY: "test", OPENAI_BASE_URL: `${url}/v1` }),
    usage: { cached: OPENAI_FAKE_USAGE.cachedTokens, reasoning: OPENAI_FAKE_USAGE.reasoningTokens },
    refusals: {
      schema:
        /Invalid schema for function 'notes': schema must be a JSON Schema of 'type: "object"'/,
      missingResult: /must be followed by tool messages responding to each 'tool_call_id'.*call_1/,
      // The provider package sends an empty user message as an empty content array.
      empty: { prompt: [{ role: "user", content: [] }, user("hi")], error: /array too short/ },
    },
  },
  {
    name: "Anthropic messages",
    start: startAnthropicFake,
    model: (url) => createAnthropic({ apiKey: "test", baseURL: `${url}/v1` })("claude-haiku-4-5"),
    env: (url) => ({ ANTHROPIC_API_KEY: "test", ANTHROPIC_BASE_URL: `${url}/v1` }),
    usage: {
      cached: ANTHROPIC_FAKE_USAGE.cacheReadTokens,
      reasoning: ANTHROPIC_FAKE_USAGE.thinkingTokens,
    },
    refusals: {
      schema: /tools\.0\.custom\.input_schema\.type: Field required/,
      missingResult:
        /`tool_use` ids were found without `tool_result` blocks immediately after: call_1/,
      // The provider package merges consecutive user messages: an empty one is an empty text.
      empty: {
        prompt: [{ role: "user", content: [{ type: "text", text: "" }] }],
        error: /text content blocks must be non-empty/,
      },
    },
  },
];

async function refusal(
  model: LanguageModelV4,
  options: LanguageModelV4CallOptions,
): Promise<Error> {
  try {
    const { stream } = await model.doStream(options);
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.type === "error") throw value.error;
    }
  } catch (error) {
    return error as Error;
  }
  throw new Error("the fake accepted a request the real API refuses");
}

describe.each(cases)("the $name fake", (c) => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await c.start();
  });
  afterAll(() => fake.close());

  it("refuses a tool whose schema root is not an object, as the real API does (400, terminal)", async () => {
    const error = await refusal(c.model(fake.baseUrl), {
      prompt: [user("hi")],
      tools: [
        {
          type: "function",
          name: "notes",
          description: "d",
          inputSchema: { oneOf: [{ type: "object" }, { type: "object" }] },
        },
      ],
    });
    expect(error.message).toMatch(c.refusals.schema);
    expect(classifyModelError(error)).toBeInstanceOf(TerminalError);
    expect(fake.requests.at(-1)?.status).toBe(400);
  });

  it("refuses an assistant tool call without its tool result, and an empty message", async () => {
    const missing = await refusal(c.model(fake.baseUrl), {
      prompt: [
        user("What is 2+3?"),
        {
          role: "assistant",
          content: [
            {
              type: "tool-call",
              toolCallId: "call_1",
              toolName: "calculator",
              input: { expression: "2+3" },
            },
          ],
        },
        user("and?"),
      ],
    });
    expect(missing.message).toMatch(c.refusals.missingResult);
    const empty = await refusal(c.model(fake.baseUrl), { prompt: c.refusals.empty.prompt });
    expect(empty.message).toMatch(c.refusals.empty.error);
  });

  it("runs the quickstart agent: parallel tool calls over two steps, usage with cached and reasoning tokens", async () => {
    const s = createTestSession(assistant, { env: c.env(fake.baseUrl) });
    await s.runtime.start({ message: "What is 2+3 and 4*5?" });
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "completed", output: "2+3 = 5, 4*5 = 20." });
    const events = s.runtime.ledger.read(0, 1000);
    const completed = events.filter((e) => e.kind === "tool.completed");
    expect(completed.map((e) => e.data)).toEqual([
      expect.objectContaining({
        step: 1,
        name: "calculator",
        result: { expression: "2+3", result: 5 },
      }),
      expect.objectContaining({
        step: 1,
        name: "calculator",
        result: { expression: "4*5", result: 20 },
      }),
    ]);
    const usage = usageView(s.sql);
    expect(usage.models).toHaveLength(1);
    expect(usage.models[0]).toMatchObject({
      calls: 2,
      cachedInputTokens: 2 * c.usage.cached,
    });
    expect(usage.rollup.reasoningTokens).toBeGreaterThanOrEqual(c.usage.reasoning);
  });

  it("gets no refusal for the quickstart's tools (their schemas have object roots)", async () => {
    const before = fake.requests.length;
    const s = createTestSession(assistant, { env: c.env(fake.baseUrl) });
    await s.runtime.start({ message: "remember to buy milk" });
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "completed", output: "Noted." });
    expect(fake.requests.slice(before).map((r) => r.status)).toEqual([200, 200]);
  });

  it("a hung stream and a stalled one end in model_timeout retries, then run.failed, while a schedule fires meanwhile", async () => {
    const seen: { requests: number; status: string | undefined }[] = [];
    const agent = defineAgent({
      ...assistant,
      name: "impatient",
      modelTimeouts: { firstTokenMs: 400, idleMs: 300 },
    });
    const s = createTestSession(agent, {
      env: c.env(fake.baseUrl),
      clock: systemClock,
      pump: { backoffBaseMs: 50, maxAttempts: 2 },
      appTriggers: [
        defineTrigger({
          kind: "tick",
          payload: z.object({}),
          run: () => {
            seen.push({ requests: fake.requests.length, status: latestRun(s.sql)?.status });
          },
        }),
      ],
    });
    fake.enqueue({ type: "hang" }, { type: "stall" });
    const before = fake.requests.length;
    await s.runtime.start({ message: "What is 1+1?" });
    await s.runtime.schedule("tick", {}, { delayMs: 100 });
    // Real time here (the session's clock is the system clock): fire the alarm when it is due.
    for (let i = 0; i < 400 && latestRun(s.sql)?.status === "running"; i++) {
      if ((s.wakeAt() ?? Number.POSITIVE_INFINITY) <= Date.now()) await s.runtime.alarm();
      else await new Promise((r) => setTimeout(r, 20));
    }
    expect(latestRun(s.sql)).toMatchObject({ status: "failed", error: { code: "model_timeout" } });
    expect(latestRun(s.sql)?.error?.message).toMatch(/went quiet for 300 ms/);
    // The schedule ran while the first call was still hanging: one request made, run running.
    expect(seen).toEqual([{ requests: before + 1, status: "running" }]);
    const attempts = s.runtime.ledger
      .read(0, 1000)
      .filter((e) => e.kind === "step.started")
      .map((e) => e.data);
    expect(attempts).toEqual([
      { step: 1, attempt: 1 },
      { step: 1, attempt: 2 },
    ]);
    expect(fake.requests.length).toBe(before + 2);
  });
});
