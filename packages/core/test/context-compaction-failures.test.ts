/**
 * A compaction that cannot be made, in a session: the run ends with the summarizer's typed
 * error (code and message as GET .../runs shows it) and nothing is committed; and the plain
 * window's pinned user message.
 */
import type { LanguageModelV4Prompt } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import type { ContextOptions } from "../src/agent/context-options.ts";
import { MAX_SUMMARY_BYTES } from "../src/agent/summarize-function.ts";
import { defineAgent, defineTool, latestRun, scriptedModel } from "../src/index.ts";
import { createTestSession, type TestSession } from "../src/testing/index.ts";

const lookup = defineTool({
  name: "lookup",
  description: "Looks a word up",
  input: z.object({ word: z.string() }),
  effect: "pure",
  execute: ({ word }) => `${word}!`,
});

function words(context: ContextOptions, prompts: LanguageModelV4Prompt[] = []) {
  return defineAgent({
    name: "words",
    system: "You look things up.",
    tools: [lookup],
    context,
    model: scriptedModel({
      rules: [
        ({ turn, userText, prompt }) => {
          prompts.push(prompt);
          return turn === 0
            ? { toolCalls: [{ name: "lookup", args: { word: userText } }] }
            : { text: `looked up ${userText}` };
        },
      ],
    }),
  });
}

async function run(s: TestSession, message: string): Promise<void> {
  await s.runtime.start({ message });
  for (let i = 0; i < 10; i++) {
    await s.drain();
    s.clock.advance(120_000);
  }
}

function compacted(s: TestSession): number {
  return s.runtime.ledger.read(0).filter((e) => e.kind === "context.compacted").length;
}

describe("a compaction that cannot be made", () => {
  it("fails the run with invalid_summary when summarize forgets to return", async () => {
    let calls = 0;
    const summarize = (async () => {
      calls++;
    }) as unknown as ContextOptions["summarize"];
    const s = createTestSession(words({ keepMessages: 3, compactAfterMessages: 6, summarize }));
    await run(s, "alpha");
    await run(s, "beta");
    const failed = latestRun(s.sql);
    expect(failed?.status).toBe("failed");
    expect(failed?.error?.code).toBe("invalid_summary");
    expect(failed?.error?.message).toMatch(
      /^context\.summarize answered undefined instead of a string/,
    );
    // Terminal: not retried.
    expect(calls).toBe(1);
    expect(compacted(s)).toBe(0);
  });

  it("fails the run at once with summary_too_large for a summary over one event", async () => {
    let calls = 0;
    const summarize = async () => {
      calls++;
      return "x".repeat(MAX_SUMMARY_BYTES + 1);
    };
    const s = createTestSession(words({ keepMessages: 3, compactAfterMessages: 6, summarize }));
    await run(s, "alpha");
    await run(s, "beta");
    const failed = latestRun(s.sql);
    expect(failed?.status).toBe("failed");
    expect(failed?.error?.code).toBe("summary_too_large");
    expect(failed?.error?.message).toMatch(/^context\.summarize wrote a summary of \d+ bytes/);
    expect(calls).toBe(1);
    expect(compacted(s)).toBe(0);
  });

  it("retries a throwing summarize, then fails the run with summarize_failed naming it", async () => {
    let calls = 0;
    const summarize = async (): Promise<string> => {
      calls++;
      throw new Error("quota exceeded");
    };
    const s = createTestSession(words({ keepMessages: 3, compactAfterMessages: 6, summarize }));
    await run(s, "alpha");
    await run(s, "beta");
    const failed = latestRun(s.sql);
    expect(failed?.status).toBe("failed");
    expect(failed?.error?.code).toBe("summarize_failed");
    expect(failed?.error?.message).toMatch(/context\.summarize threw: quota exceeded/);
    expect(calls).toBeGreaterThan(1);
    expect(compacted(s)).toBe(0);
  });
});

describe("a plain window", () => {
  it("pins the run's user message before a kept tail that opens at an assistant turn", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    let call = 0;
    const model = scriptedModel({
      rules: [
        ({ prompt }) => {
          prompts.push(prompt);
          const n = call++;
          return n < 8
            ? { toolCalls: [{ name: "lookup", args: { word: `w${n}` } }] }
            : { text: `answer ${n}` };
        },
      ],
    });
    const s = createTestSession(
      defineAgent({
        name: "words",
        system: "You look things up.",
        tools: [lookup],
        maxSteps: 20,
        context: { keepMessages: 3, compactAfterMessages: 6, summarize: false },
        model,
      }),
    );
    await run(s, "look up eight words");
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(compacted(s)).toBeGreaterThan(0);
    const request = { role: "user", content: [{ type: "text", text: "look up eight words" }] };
    for (const prompt of prompts) {
      // The run's request opens every prompt, once, followed by at most compactAfterMessages.
      expect(prompt[1]).toMatchObject(request);
      expect(prompt.filter((m) => m.role === "user")).toHaveLength(1);
      expect(prompt.length).toBeLessThanOrEqual(2 + 6);
    }
    // The last prompt could hold 17 messages after the system: the request is pinned before a
    // tail of assistant and tool turns, the rest cut.
    expect(prompts.at(-1)?.[2]?.role).toBe("assistant");
  });
});
