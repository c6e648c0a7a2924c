import type { LanguageModelV4, LanguageModelV4Message } from "@ai-sdk/provider";
import { MockLanguageModelV4 } from "ai/test";
import { describe, expect, it } from "vitest";
import { MessageCache } from "../src/agent/message-cache.ts";
import { defineAgent, latestRun } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { mathAgent } from "./fixtures.ts";

/** Freezes a message and everything in it: a later change by anyone throws (strict mode). */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** Each model call's prompt: the array, a copy of it then, and what a fresh object read then. */
interface Call {
  readonly prompt: readonly LanguageModelV4Message[];
  readonly elements: readonly LanguageModelV4Message[];
  readonly fresh: readonly LanguageModelV4Message[];
}

/**
 * mathAgent, whose model (the AI SDK's MockLanguageModelV4 over mathAgent's scripted model) records each call's prompt beside what a fresh object reads from the
 * ledger at that moment (`readPrompt`, by a new MessageCache), and freezes the prompt's messages,
 * so a change to them by our code or by the model in a later step throws.
 */
function recordingSession() {
  const calls: Call[] = [];
  const inner = mathAgent.model as LanguageModelV4;
  let s: ReturnType<typeof createTestSession> | undefined;
  const mock = new MockLanguageModelV4({
    doStream: async (options) => {
      const session = s as ReturnType<typeof createTestSession>;
      const fresh = new MessageCache(session.sql).prompt(
        mathAgent.system,
        session.runtime.ledger.tail,
      );
      for (const message of options.prompt) deepFreeze(message);
      calls.push({ prompt: options.prompt, elements: [...options.prompt], fresh });
      return inner.doStream(options);
    },
  });
  s = createTestSession(defineAgent({ ...mathAgent, name: "math", model: mock }));
  return { s, calls, mock };
}

describe("every model call gets a prompt of its own, equal to a fresh read of the ledger", () => {
  it("a recorded prompt stays what the call got, and no step changes a message it shares", async () => {
    const { s, calls, mock } = recordingSession();
    for (let i = 0; i < 3; i++) {
      await s.runtime.start({ message: `${i}: What is 2+3?` });
      await s.drain();
      expect(s.runtime.status().status).toBe("completed");
    }
    // Two model calls per run (tool call, then answer), in one object, its cache kept warm.
    expect(calls.map((c) => c.elements.length)).toEqual([2, 4, 6, 8, 10, 12]);
    for (const [i, call] of calls.entries()) {
      expect(call.elements).toEqual(call.fresh);
      // The AI SDK's MockLanguageModelV4 keeps each call's options by reference: a prompt
      // array shared with later steps (appended to) would change what it recorded.
      expect(mock.doStreamCalls[i]?.prompt).toBe(call.prompt);
      expect(call.prompt).toEqual(call.elements);
    }
    expect(new Set(calls.map((c) => c.prompt)).size).toBe(calls.length);
  });

  it("a regenerated run's prompt is a fresh read without the replaced turn", async () => {
    const { s, calls } = recordingSession();
    await s.runtime.start({ message: "What is 2+3?" });
    await s.drain();
    await s.runtime.start({ message: "And again?" });
    await s.drain();
    const replaced = latestRun(s.sql)?.runId as string;
    const before = calls.length;
    await s.runtime.start({ message: "Once more?", replaces: replaced });
    await s.drain();
    expect(s.runtime.status().status).toBe("completed");
    const after = calls.slice(before);
    expect(after).toHaveLength(2);
    for (const call of after) expect(call.elements).toEqual(call.fresh);
    const sent = JSON.stringify(after[1]?.elements);
    expect(sent).not.toContain("And again?");
    expect(sent).toContain("Once more?");
  });
});
