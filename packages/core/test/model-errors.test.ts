import { APICallError, type LanguageModelV4 } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { classifyModelError } from "../src/agent/model-call.ts";
import {
  defineAgent,
  latestRun,
  RetryableError,
  scriptedModel,
  TerminalError,
} from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { calculator } from "./fixtures.ts";

const apiError = (statusCode: number) =>
  new APICallError({
    message: `status ${statusCode}`,
    url: "https://model.test",
    requestBodyValues: {},
    statusCode,
  });

describe("model errors carry the retry decision", () => {
  it("classifies provider errors", () => {
    expect(classifyModelError(apiError(429))).toBeInstanceOf(RetryableError);
    expect(classifyModelError(apiError(503))).toBeInstanceOf(RetryableError);
    expect(classifyModelError(apiError(401))).toBeInstanceOf(TerminalError);
    expect(classifyModelError(apiError(400)).code).toBe("model_rejected");
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
    expect(latestRun(s.sql)).toMatchObject({ status: "failed", error: { code: "model_rejected" } });
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
});
