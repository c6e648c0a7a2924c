/**
 * Tier 3: the quickstart under `wrangler dev` with a real AI SDK provider (`@ai-sdk/openai`,
 * `@ai-sdk/anthropic`) talking to a loopback fake of its API (test/support/provider-fakes/),
 * which refuses what the real API refuses. What a user of each provider would see.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAnthropicFake } from "../support/provider-fakes/anthropic-fake.ts";
import type { FakeProvider } from "../support/provider-fakes/fake-server.ts";
import { startOpenAIFake } from "../support/provider-fakes/openai-fake.ts";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import {
  getJson,
  isTerminal,
  type LedgerEvent,
  startQuickstart,
  startRun,
  tempState,
  waitForLedger,
} from "./e2e-support.ts";

const providers = [
  {
    name: "OpenAI",
    start: startOpenAIFake,
    vars: (url: string) => ({ OPENAI_API_KEY: "test", OPENAI_BASE_URL: `${url}/v1` }),
  },
  {
    name: "Anthropic",
    start: startAnthropicFake,
    vars: (url: string) => ({ ANTHROPIC_API_KEY: "test", ANTHROPIC_BASE_URL: `${url}/v1` }),
  },
];

interface ModelUsage {
  calls: number;
  cachedInputTokens: number;
  reasoningTokens: number;
}

describe.each(providers)("the quickstart on $name (loopback fake)", (provider) => {
  let fake: FakeProvider;
  let dev: WranglerDev;
  let state: string;
  beforeAll(async () => {
    fake = await provider.start();
    state = tempState(`e2e-${provider.name.toLowerCase()}`);
    dev = await startQuickstart(state, provider.vars(fake.baseUrl));
  });
  afterAll(async () => {
    await dev?.stop();
    await fake?.close();
    rmSync(state, { recursive: true, force: true });
  });

  const finished = (session: string) =>
    waitForLedger(dev.baseUrl, session, (events) => events.some(isTerminal));
  const kinds = (events: LedgerEvent[], kind: string) => events.filter((e) => e.kind === kind);

  it("completes a multi-step run with parallel tool calls; usage shows cached and reasoning tokens", async () => {
    await startRun(dev.baseUrl, "parallel", "What is 2+3 and 4*5?");
    const events = await finished("parallel");
    expect(events.at(-1)).toMatchObject({
      kind: "run.completed",
      data: { output: "2+3 = 5, 4*5 = 20." },
    });
    const calls = kinds(events, "tool.completed").map((e) => e.data);
    expect(calls).toEqual([
      expect.objectContaining({ step: 1, result: { expression: "2+3", result: 5 } }),
      expect.objectContaining({ step: 1, result: { expression: "4*5", result: 20 } }),
    ]);
    const usage = await getJson<{ models: ModelUsage[]; rollup: ModelUsage }>(
      `${dev.baseUrl}/agents/assistant/parallel/usage`,
    );
    expect(usage.models[0]?.calls).toBe(2);
    expect(usage.rollup.cachedInputTokens).toBeGreaterThan(0);
    expect(usage.rollup.reasoningTokens).toBeGreaterThan(0);
  });

  it("retries a 429 after its Retry-After, then completes", async () => {
    fake.enqueue({ type: "rate-limit", retryAfterSeconds: 2 });
    const before = fake.requests.length;
    await startRun(dev.baseUrl, "limited", "What is 6*7?");
    const events = await finished("limited");
    expect(events.at(-1)).toMatchObject({ kind: "run.completed", data: { output: "6*7 = 42." } });
    const [limited, retried] = fake.requests.slice(before);
    expect(limited?.status).toBe(429);
    expect(retried?.status).toBe(200);
    // Not the pump's 1 s backoff: the provider asked for 2 s.
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(2000);
    expect(kinds(events, "step.started").map((e) => e.data)).toEqual([
      { step: 1, attempt: 1 },
      { step: 1, attempt: 2 },
      { step: 2, attempt: 1 },
    ]);
  });
});
