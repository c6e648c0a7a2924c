/**
 * What a newcomer sees when the model cannot be used: the README agent (examples/readme,
 * `@ai-sdk/openai`) run through the session runtime (in-process SQLite) against the OpenAI
 * fake, which refuses what the real API refuses (a 401 without a usable key, a 404 off its
 * path), and against a closed port. Each ends in `run.failed` whose code and message say
 * what happened and what to do; auth and 404 are not retried (the AI SDK marks them not
 * retryable), an unreachable provider is, and `retry` completes the run once it is fixed.
 */
import { createOpenAI } from "@ai-sdk/openai";
import { defineAgent, latestRun, type SessionRuntimeOptions } from "@durable-agents/core";
import { createTestSession } from "@durable-agents/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assistant } from "../../examples/readme/src/agent.ts";
import type { FakeProvider } from "../support/provider-fakes/fake-server.ts";
import { startOpenAIFake } from "../support/provider-fakes/openai-fake.ts";
import { freePort } from "../support/wrangler-dev.ts";

const failure = (s: ReturnType<typeof createTestSession>) => {
  const failed = s.runtime.ledger.read(0, 1000).filter((e) => e.kind === "run.failed");
  expect(failed).toHaveLength(1);
  const data = failed[0]?.data as { error: { code: string; message: string } } | undefined;
  if (!data) throw new Error("the run did not fail");
  return data.error;
};

/** Attempts the ledger records for step 1. */
const attempts = (s: ReturnType<typeof createTestSession>) =>
  s.runtime.ledger.read(0, 1000).filter((e) => e.kind === "step.started").length;

const session = (env: Record<string, string>, more: Partial<SessionRuntimeOptions> = {}) =>
  createTestSession(assistant, { env, pump: { backoffBaseMs: 0, maxAttempts: 3 }, ...more });

/** Fires alarms, moving the manual clock past each backoff, until the run ends. */
async function settle(s: ReturnType<typeof createTestSession>): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await s.drain();
    const at = s.wakeAt();
    const status = latestRun(s.sql)?.status;
    if (status !== "running" || at === null) return;
    s.clock.advance(Math.max(0, at - s.clock.now()));
  }
}

describe("a model the README agent cannot use", () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await startOpenAIFake();
  });
  afterAll(() => fake.close());

  it("no OPENAI_API_KEY: the provider's 401 ends the run at once as model_auth_failed naming the key and .dev.vars; retry completes once it is set", async () => {
    const env: Record<string, string> = { OPENAI_BASE_URL: `${fake.baseUrl}/v1` };
    const before = fake.requests.length;
    const s = session(env);
    await s.runtime.start({ message: "What is 20 C in F?" });
    await settle(s);
    expect(latestRun(s.sql)?.status).toBe("failed");
    const error = failure(s);
    expect(error.code).toBe("model_auth_failed");
    expect(error.message).toContain(
      `openai.chat (model gpt-4o-mini) at ${fake.baseUrl}/v1/chat/completions answered 401`,
    );
    expect(error.message).toContain("Incorrect API key provided: undefined");
    expect(error.message).toContain("set OPENAI_API_KEY");
    expect(error.message).toContain(".dev.vars");
    // Terminal: one request, one attempt (the AI SDK marks a 401 not retryable).
    expect(fake.requests.slice(before).map((r) => r.status)).toEqual([401]);
    expect(attempts(s)).toBe(1);
    env.OPENAI_API_KEY = "sk-test";
    await s.runtime.retry({ mode: "from_start" });
    await settle(s);
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(fake.requests.at(-1)?.headers.authorization).toBe("Bearer sk-test");
  });

  it("no key configured at all (the SDK's LoadAPIKeyError): model_auth_failed, not retried, nothing sent", async () => {
    const before = fake.requests.length;
    const agent = defineAgent({
      ...assistant,
      name: "keyless",
      // No apiKey: the provider reads process.env.OPENAI_API_KEY, which is not set here.
      model: () => createOpenAI({ baseURL: `${fake.baseUrl}/v1` }).chat("gpt-4o-mini"),
    });
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const s = createTestSession(agent, { pump: { backoffBaseMs: 0, maxAttempts: 3 } });
      await s.runtime.start({ message: "hi" });
      await settle(s);
      const error = failure(s);
      expect(error.code).toBe("model_auth_failed");
      expect(error.message).toContain("openai.chat (model gpt-4o-mini) has no API key");
      expect(error.message).toContain("OpenAI API key is missing");
      expect(error.message).toContain("set OPENAI_API_KEY");
      expect(attempts(s)).toBe(1);
      expect(fake.requests.length).toBe(before);
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });

  it("a baseURL without /v1: the 404 ends the run at once as model_not_found naming the URL, the model id and the baseURL", async () => {
    const before = fake.requests.length;
    const s = session({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.baseUrl });
    await s.runtime.start({ message: "hi" });
    await settle(s);
    const error = failure(s);
    expect(error.code).toBe("model_not_found");
    expect(error.message).toContain(`at ${fake.baseUrl}/chat/completions answered 404`);
    expect(error.message).toContain("check the model id (gpt-4o-mini) and the provider's baseURL");
    expect(fake.requests.slice(before).map((r) => r.status)).toEqual([404]);
    expect(attempts(s)).toBe(1);
  });

  it("an unreachable provider (a closed port): retried, then model_unreachable naming the URL and the cause; retry completes once it is reachable", async () => {
    const port = await freePort();
    const env: Record<string, string> = {
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
    };
    const s = session(env);
    await s.runtime.start({ message: "hi" });
    await settle(s);
    expect(latestRun(s.sql)?.status).toBe("failed");
    const error = failure(s);
    expect(error.code).toBe("model_unreachable");
    expect(error.message).toContain(
      `could not reach openai.chat (model gpt-4o-mini) at http://127.0.0.1:${port}/v1/chat/completions`,
    );
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.message).toContain("check the network and the provider's baseURL");
    // Retryable, as the AI SDK marks it: more than one attempt before the run failed.
    expect(attempts(s)).toBeGreaterThan(1);
    env.OPENAI_BASE_URL = `${fake.baseUrl}/v1`;
    await s.runtime.retry({ mode: "from_start" });
    await settle(s);
    expect(latestRun(s.sql)?.status).toBe("completed");
  });
});
