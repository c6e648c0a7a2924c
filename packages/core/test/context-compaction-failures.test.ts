/**
 * A compaction that cannot be made, in a session: the run ends with the summarizer's typed
 * error (code and message as GET .../runs shows it) and nothing is committed; a summarize that
 * never answers is cut off by summarizeTimeoutMs and the step retried; and the plain window's
 * pinned user message.
 */
import type { LanguageModelV4Prompt } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import type { ContextOptions, SummarizeInput } from "../src/agent/context-options.ts";
import { MAX_SUMMARY_BYTES } from "../src/agent/summarize-function.ts";
import { latestRun, listMessages, scriptedModel } from "../src/index.ts";
import { activeCompaction } from "../src/ledger/projections/compactions.ts";
import { createTestSession, type TestSession } from "../src/testing/index.ts";
import { compactions, settle as run, sentSummaries, wordsAgent } from "./compaction-fixture.ts";

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

describe("a summarize function that never answers (summarizeTimeoutMs)", () => {
  /** Fires alarms without awaiting a hung one, moving the clock past timeouts and backoffs. */
  async function pumpUntil(s: TestSession, done: () => boolean): Promise<void> {
    for (let i = 0; i < 60 && !done(); i++) {
      void s.runtime.alarm();
      await new Promise((r) => setTimeout(r, 5));
      s.clock.advance(60_000);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** A summarize that hangs (ignoring its signal) on the calls `hangs` says, else answers. */
  function hanging(hangs: (call: number) => boolean) {
    const calls: SummarizeInput[] = [];
    const summarize = (input: SummarizeInput) => {
      calls.push(input);
      return hangs(calls.length)
        ? new Promise<string>(() => {})
        : Promise.resolve(`summary of ${input.messages.length}`);
    };
    return { calls, summarize };
  }

  it("retries the step after summarize_timeout; the retry's summary is committed and the run completes", async () => {
    const { calls, summarize } = hanging((n) => n === 1);
    const prompts: LanguageModelV4Prompt[] = [];
    const s = createTestSession(
      wordsAgent(prompts, {
        keepMessages: 3,
        compactAfterMessages: 6,
        summarize,
        summarizeTimeoutMs: 1_000,
      }),
      { pump: { backoffBaseMs: 10 } },
    );
    await run(s, "alpha");
    await s.runtime.start({ message: "beta" });
    await pumpUntil(s, () => latestRun(s.sql)?.status !== "running");
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(calls).toHaveLength(2);
    // The same messages both times: the timed-out call committed nothing.
    expect(calls[1]?.messages).toEqual(calls[0]?.messages);
    const [made] = compactions(s);
    expect(compactions(s)).toHaveLength(1);
    expect(made?.data).toMatchObject({ step: 2, summary: "summary of 4" });
    // Step 2 ran twice: the attempt the timeout failed, and the retry that compacted.
    const attempts = s.runtime.ledger
      .read(0)
      .filter((e) => e.kind === "step.started" && e.runId === made?.runId && e.data.step === 2);
    expect(attempts.map((e) => e.data)).toEqual([
      { step: 2, attempt: 1 },
      { step: 2, attempt: 2 },
    ]);
    // Nothing lost: clients read every message, and the model got the summary and the tail.
    expect(listMessages(s.sql, 0, 100)).toHaveLength(8);
    expect(sentSummaries(prompts)).toEqual(["summary of 4"]);
  });

  it("fails the run with summarize_timeout when every attempt times out, the conversation intact", async () => {
    const { calls, summarize } = hanging(() => true);
    const s = createTestSession(
      wordsAgent([], {
        keepMessages: 3,
        compactAfterMessages: 6,
        summarize,
        summarizeTimeoutMs: 1_000,
      }),
      { pump: { backoffBaseMs: 10 } },
    );
    await run(s, "alpha");
    const before = listMessages(s.sql, 0, 100).length;
    await s.runtime.start({ message: "beta" });
    await pumpUntil(s, () => latestRun(s.sql)?.status !== "running");
    const failed = latestRun(s.sql);
    expect(failed?.status).toBe("failed");
    expect(failed?.error?.code).toBe("summarize_timeout");
    expect(failed?.error?.message).toMatch(
      /^context\.summarize did not answer within 1000 ms, so the step is retried; make it answer sooner/,
    );
    expect(calls.length).toBeGreaterThan(1);
    expect(compacted(s)).toBe(0);
    // beta's user message, its lookup and result are kept; the run failed before step 2's answer.
    expect(listMessages(s.sql, 0, 100).length).toBe(before + 3);
    // No compaction is active: the next prompt is the whole conversation again.
    expect(activeCompaction(s.sql)).toBeUndefined();
  });
});

describe("a plain window", () => {
  // compactionCut falls back to an assistant message when no user message is within
  // compactAfterMessages (a run of many tool steps). With a summary the prompt still opens with
  // a user message (the summary); a plain window would send [system, assistant(tool calls), tool,
  // ...]: the user's request gone from the prompt, and providers that want the conversation to
  // open with a user turn refuse it (Bedrock's Anthropic: 'first message must use the "user"
  // role'; Gemini: a function call turn must come right after a user turn or a function response).
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
