/**
 * A compaction that cannot be made, in a session: the run ends with the summarizer's typed
 * error (code and message as GET .../runs shows it) and nothing is committed; and the plain
 * window's pinned user message.
 */
import type { LanguageModelV4Prompt } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import type { ContextOptions } from "../src/agent/context-options.ts";
import { MAX_SUMMARY_BYTES } from "../src/agent/summarize-function.ts";
import { latestRun, scriptedModel } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { compactions, settle as run, wordsAgent } from "./compaction-fixture.ts";

const words = (context: ContextOptions) => wordsAgent([], context);
const compacted = (s: Parameters<typeof compactions>[0]) => compactions(s).length;

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
      wordsAgent(
        prompts,
        { keepMessages: 3, compactAfterMessages: 6, summarize: false },
        { model, maxSteps: 20 },
      ),
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
