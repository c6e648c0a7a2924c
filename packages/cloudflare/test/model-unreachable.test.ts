/**
 * An unreachable model provider on the real runtime: workerd's fetch rejects with a plain
 * `Error` ("Network connection lost." for a refused connection, "internal error; reference
 * = …" for a host that does not resolve), which the AI SDK does not wrap in an APICallError.
 * Through the real `@ai-sdk/openai` provider, the model call still ends in a retryable
 * `model_unreachable` naming the model and what to check (model-call.ts `classifyModelError`).
 */
import { createOpenAI } from "@ai-sdk/openai";
import { describe, expect, it } from "vitest";
import { callModel } from "../../core/src/agent/model-call.ts";
import { RetryableError } from "../../core/src/errors/base.ts";

async function failure(baseURL: string): Promise<unknown> {
  const model = createOpenAI({ apiKey: "sk-test", baseURL }).chat("gpt-4o-mini");
  const prompt = [{ role: "user" as const, content: [{ type: "text" as const, text: "hi" }] }];
  try {
    await callModel(
      model,
      { prompt, abortSignal: new AbortController().signal },
      { text: () => {} },
    );
  } catch (error) {
    return error;
  }
  throw new Error("the call to an unreachable provider succeeded");
}

describe("an unreachable provider in workerd", () => {
  it.each([
    ["a refused connection", "http://127.0.0.1:1/v1"],
    ["a host that does not resolve", "http://no-such-host.invalid/v1"],
  ])(
    "%s: retryable model_unreachable naming the model and the baseURL to check",
    async (_, url) => {
      const error = await failure(url);
      expect(error).toBeInstanceOf(RetryableError);
      const e = error as RetryableError;
      expect(e.code).toBe("model_unreachable");
      expect(e.message).toMatch(
        /^could not reach openai\.chat \(model gpt-4o-mini\): .+; check the network and the provider's baseURL \(e\.g\. OPENAI_BASE_URL in \.dev\.vars/,
      );
    },
  );
});
