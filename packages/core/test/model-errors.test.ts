import { APICallError, type LanguageModelV4 } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { classifyModelError } from "../src/agent/model-call.ts";
import { retryAfterMs } from "../src/agent/retry-after.ts";
import {
  defineAgent,
  latestRun,
  listMessages,
  RetryableError,
  scriptedModel,
  TerminalError,
  usageView,
} from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { calculator } from "./fixtures.ts";

const apiError = (
  statusCode: number,
  message = `status ${statusCode}`,
  responseBody?: string,
  responseHeaders?: Record<string, string>,
) =>
  new APICallError({
    message,
    url: "https://model.test",
    requestBodyValues: {},
    statusCode,
    responseBody,
    ...(responseHeaders ? { responseHeaders } : {}),
  });

/** What OpenAI answers for a prompt over the context window (status 400, not retryable). */
const openAiContextLength = () =>
  apiError(
    400,
    "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
    JSON.stringify({
      error: {
        message:
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
        type: "invalid_request_error",
        param: "messages",
        code: "context_length_exceeded",
      },
    }),
  );

describe("model errors carry the retry decision", () => {
  it("classifies provider errors", () => {
    expect(classifyModelError(apiError(429))).toBeInstanceOf(RetryableError);
    expect(classifyModelError(apiError(503))).toBeInstanceOf(RetryableError);
    expect(classifyModelError(apiError(401))).toBeInstanceOf(TerminalError);
    expect(classifyModelError(apiError(400)).code).toBe("model_rejected");
    expect(classifyModelError(apiError(401)).code).toBe("model_auth_failed");
    expect(
      classifyModelError(apiError(400, "prompt is too long: 210000 tokens > 200000 maximum")).code,
    ).toBe("model_context_length_exceeded");
    expect(
      classifyModelError(
        apiError(400, "The response was filtered", '{"error":{"code":"content_filter"}}'),
      ).code,
    ).toBe("model_content_filtered");
    expect(classifyModelError(apiError(403, "You exceeded your current quota")).code).toBe(
      "model_rate_limited",
    );
    expect(classifyModelError(new TypeError("fetch failed"))).toBeInstanceOf(RetryableError);
  });

  it("retries a retryable failure with backoff and then succeeds", async () => {
    let failures = 2;
    const base = scriptedModel({ turns: [{ text: "ok" }] });
    const model: LanguageModelV4 = {
      ...base,
      doStream: async (o) => {
        if (failures-- > 0) throw apiError(503);
        return base.doStream(o);
      },
    };
    const s = createTestSession(defineAgent({ name: "r", system: "", model }), {
      pump: { backoffBaseMs: 100 },
    });
    await s.runtime.start({ message: "x" });
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("running");
    s.clock.advance(100);
    await s.drain();
    s.clock.advance(200);
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "completed", output: "ok" });
  });

  it("fails at once, as a terminal event, on a terminal error", async () => {
    const base = scriptedModel({ turns: [{ text: "ok" }] });
    const model: LanguageModelV4 = { ...base, doStream: async () => Promise.reject(apiError(401)) };
    const s = createTestSession(defineAgent({ name: "t", system: "", model }));
    await s.runtime.start({ message: "x" });
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({
      status: "failed",
      error: { code: "model_auth_failed" },
    });
  });

  it("ends a run that never stops calling tools with max_steps", async () => {
    const loop = defineAgent({
      name: "loop",
      system: "",
      tools: [calculator],
      maxSteps: 3,
      model: scriptedModel({
        turns: [{ toolCalls: [{ name: "calculator", args: { a: 1, b: 1 } }] }],
      }),
    });
    const s = createTestSession(loop);
    await s.runtime.start({ message: "x" });
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({
      status: "failed",
      step: 3,
      error: { code: "max_steps" },
    });
  });

  it("a context-length 400 gets its own code and advice, never the API-key hint", async () => {
    const error = classifyModelError(openAiContextLength());
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.code).toBe("model_context_length_exceeded");
    expect(error.message).toMatch(/context window/);
    expect(error.message).not.toMatch(/API key/i);
    const base = scriptedModel({ turns: [{ text: "ok" }] });
    const model: LanguageModelV4 = {
      ...base,
      doStream: async () => Promise.reject(openAiContextLength()),
    };
    const s = createTestSession(defineAgent({ name: "long", system: "", model }));
    await s.runtime.start({ message: "x" });
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({
      status: "failed",
      error: { code: "model_context_length_exceeded" },
    });
  });
});

describe("empty answers", () => {
  const answering = (answers: string[]) => {
    const calls = { n: 0 };
    const model = scriptedModel({
      rules: [() => ({ text: answers[Math.min(calls.n++, answers.length - 1)] })],
    });
    return { model, calls };
  };
  const drainAll = async (s: ReturnType<typeof createTestSession>) => {
    for (let i = 0; i < 10; i++) {
      await s.drain();
      s.clock.advance(60_000);
    }
    await s.drain();
  };

  for (const [label, blank] of [
    ["an empty answer", ""],
    ["a whitespace-only answer", " \n\t "],
  ] as const) {
    it(`${label} is retried as a model error, and a later real answer completes the run`, async () => {
      const { model, calls } = answering([blank, "Here it is."]);
      const s = createTestSession(defineAgent({ name: "e", system: "", model }));
      await s.runtime.start({ message: "x" });
      await drainAll(s);
      expect(calls.n).toBe(2);
      expect(latestRun(s.sql)).toMatchObject({ status: "completed", output: "Here it is." });
      // The blank answer is neither stored as a message nor sent back in a prompt.
      const completed = s.runtime.ledger.read(0).filter((e) => e.kind === "model.completed");
      expect(completed.map((e) => (e.data as { text: string }).text)).toEqual(["Here it is."]);
    });

    it(`${label} every time fails the run with empty_answer once the step's attempts are spent`, async () => {
      const { model, calls } = answering([blank]);
      const s = createTestSession(defineAgent({ name: "e", system: "", model }));
      await s.runtime.start({ message: "x" });
      await drainAll(s);
      expect(calls.n).toBe(5);
      expect(latestRun(s.sql)).toMatchObject({ status: "failed", error: { code: "empty_answer" } });
      expect(s.runtime.ledger.read(0).map((e) => e.kind)).not.toContain("run.completed");
      // Not stored as the assistant's message, so never sent back in the next prompt.
      expect(listMessages(s.sql, 0, 50).map((m) => m.role)).toEqual(["user"]);
    });
  }
});

describe("a provider's Retry-After and its usage details", () => {
  it("waits the provider's Retry-After before retrying a 429, not the backoff", async () => {
    let failures = 1;
    const base = scriptedModel({ turns: [{ text: "ok" }] });
    const model: LanguageModelV4 = {
      ...base,
      doStream: async (o) => {
        if (failures-- > 0) throw apiError(429, undefined, undefined, { "retry-after": "3" });
        return base.doStream(o);
      },
    };
    const s = createTestSession(defineAgent({ name: "r", system: "", model }), {
      pump: { backoffBaseMs: 100 },
    });
    await s.runtime.start({ message: "x" });
    await s.drain();
    expect(s.wakeAt()).toBe(s.clock.now() + 3000);
    s.clock.advance(2999);
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("running");
    s.clock.advance(1);
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "completed", output: "ok" });
  });

  it("reads retry-after-ms, retry-after seconds and HTTP dates", () => {
    expect(retryAfterMs({ "retry-after-ms": "1500.2", "retry-after": "9" }, 0)).toBe(1501);
    expect(retryAfterMs({ "Retry-After": "2" }, 0)).toBe(2000);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs({ "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" }, now)).toBe(5000);
    expect(retryAfterMs({ "retry-after": "soon" }, now)).toBeUndefined();
    expect(
      classifyModelError(apiError(429, undefined, undefined, { "retry-after": "7" })),
    ).toMatchObject({
      retryAfterMs: 7000,
    });
  });

  it("records cached input and reasoning tokens, and GET usage shows them", async () => {
    const base = scriptedModel({ turns: [{ text: "ok" }] });
    const model: LanguageModelV4 = {
      ...base,
      doStream: async () => ({
        stream: new ReadableStream({
          start(c) {
            c.enqueue({ type: "text-delta", id: "t", delta: "ok" });
            c.enqueue({
              type: "finish",
              finishReason: { unified: "stop", raw: "stop" },
              usage: {
                inputTokens: { total: 100, noCache: 20, cacheRead: 80, cacheWrite: 0 },
                outputTokens: { total: 30, text: 10, reasoning: 20 },
              },
            });
            c.close();
          },
        }),
      }),
    };
    const s = createTestSession(defineAgent({ name: "u", system: "", model }));
    await s.runtime.start({ message: "x" });
    await s.drain();
    const view = usageView(s.sql);
    expect(view.models[0]).toMatchObject({
      inputTokens: 100,
      outputTokens: 30,
      cachedInputTokens: 80,
      reasoningTokens: 20,
    });
    expect(view.rollup).toMatchObject({ cachedInputTokens: 80, reasoningTokens: 20 });
  });
});
