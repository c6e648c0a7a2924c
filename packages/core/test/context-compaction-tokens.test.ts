/**
 * The token trigger (`context.compactAfterTokens`), in a session: a step compacts once the last
 * model call's reported input tokens (its `model.completed` usage, runTokensOf) reach the
 * trigger; a figure measured before the active compaction is stale and triggers nothing.
 */
import type {
  LanguageModelV4,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
} from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import type { SummarizeInput } from "../src/agent/context-options.ts";
import { latestRun } from "../src/index.ts";
import type { LedgerEvent } from "../src/ledger/events.ts";
import { createTestSession } from "../src/testing/index.ts";
import {
  compactions,
  diesAfterCompaction,
  isSummary,
  lookupModel,
  recordingSummarizer,
  redriven,
  runs,
  stepUntil,
  wordsAgent,
} from "./compaction-fixture.ts";

/** 1000 input tokens per prompt message (the system message too), as the provider reports them. */
const TOKENS_PER_MESSAGE = 1000;

/** `base`, reporting TOKENS_PER_MESSAGE input tokens per message of each prompt it is sent. */
function reporting(base: LanguageModelV4): LanguageModelV4 {
  return {
    ...base,
    doStream: async (options) => {
      const { stream } = await base.doStream(options);
      const inputTokens = TOKENS_PER_MESSAGE * options.prompt.length;
      const usage = {
        inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: 0, cacheWrite: 0 },
        outputTokens: { total: 10, text: 10, reasoning: 0 },
      };
      const withUsage = new TransformStream<LanguageModelV4StreamPart, LanguageModelV4StreamPart>({
        transform: (part, controller) =>
          controller.enqueue(part.type === "finish" ? { ...part, usage } : part),
      });
      return { stream: stream.pipeThrough(withUsage) };
    },
  };
}

const summarizer = () =>
  recordingSummarizer((input, n) => `summary ${n} of ${input.messages.length} messages`);

describe("compacting on the last model call's input tokens (compactAfterTokens)", () => {
  it("compacts the step after a call whose input tokens reached the trigger, once", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    const { calls, summarize } = summarizer();
    const s = createTestSession(
      wordsAgent(
        prompts,
        { keepMessages: 3, compactAfterTokens: 6 * TOKENS_PER_MESSAGE, summarize },
        { model: reporting(lookupModel(prompts)) },
      ),
    );
    // alpha: prompts of 2 and 4 messages (2000, 4000 tokens): nothing to compact.
    await runs(s, ["alpha"]);
    expect(compactions(s)).toHaveLength(0);
    await runs(s, ["beta"]);
    // beta's step 1 was sent 6 messages (6000 tokens): its step 2 compacts, before its call.
    const [made] = compactions(s);
    expect(compactions(s)).toHaveLength(1);
    expect(made?.runId).toBe("run_2");
    expect(made?.data.step).toBe(2);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.messages.map((m) => m.role)).toEqual([
      "user",
      "assistant",
      "tool",
      "assistant",
    ]);
    // The step's prompt: system, summary, then beta's user message, call and result.
    const last = prompts.at(-1) as LanguageModelV4Prompt;
    expect(last.map((m) => (isSummary(m) ? "summary" : m.role))).toEqual([
      "system",
      "summary",
      "user",
      "assistant",
      "tool",
    ]);
    // Its call was sent 5 messages (5000 tokens): gamma's step 1 (sent 7) does not compact;
    // its step 2 does, the 7000 of step 1 having reached the trigger.
    await runs(s, ["gamma"]);
    expect(compactions(s).map((e) => [e.runId, e.data.step])).toEqual([
      ["run_2", 2],
      ["run_3", 2],
    ]);
    expect(calls[1]?.previousSummary).toBe("summary 1 of 4 messages");
  });

  it("a step redriven after a crash past its compaction does not compact again on the stale figure", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    const { calls, summarize } = summarizer();
    const { model: dying, hangs } = diesAfterCompaction(reporting(lookupModel(prompts)));
    const s = createTestSession(
      // keepMessages 1: the tail moves back to beta's user message, so the kept tail (3
      // messages) could be compacted again, were the 6000 of the call before counted.
      wordsAgent(
        prompts,
        {
          keepMessages: 1,
          compactAfterMessages: 20,
          compactAfterTokens: 6 * TOKENS_PER_MESSAGE,
          summarize,
        },
        { model: dying },
      ),
    );
    await runs(s, ["alpha"]);
    await s.runtime.start({ message: "beta" });
    await stepUntil(s, () => hangs() > 0);
    expect(compactions(s)).toHaveLength(1);
    // A new object redrives the step: the last call (6000 tokens) predates the compaction.
    const fresh = await redriven(s);
    expect(latestRun(fresh.sql)?.status).toBe("completed");
    expect(calls).toHaveLength(1);
    expect(compactions(fresh)).toHaveLength(1);
  });

  it("either trigger compacts when both are set", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    const { summarize } = summarizer();
    // Tokens first: 6 messages reach 6000 before the prompt holds more than 20 messages.
    const s = createTestSession(
      wordsAgent(
        prompts,
        {
          keepMessages: 3,
          compactAfterMessages: 20,
          compactAfterTokens: 6 * TOKENS_PER_MESSAGE,
          summarize,
        },
        { model: reporting(lookupModel(prompts)) },
      ),
    );
    await runs(s, ["alpha", "beta"]);
    expect(compactions(s)).toHaveLength(1);
    // Messages first: the token trigger is far off, the message trigger compacts as before.
    const other: LanguageModelV4Prompt[] = [];
    const t = createTestSession(
      wordsAgent(
        other,
        { keepMessages: 3, compactAfterMessages: 6, compactAfterTokens: 1_000_000, summarize },
        { model: reporting(lookupModel(other)) },
      ),
    );
    await runs(t, ["alpha", "beta"]);
    expect(compactions(t)).toHaveLength(1);
  });
  it("a figure measured for messages a regenerate hid is stale: the shorter prompt does not compact", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    const { calls, summarize } = summarizer();
    const s = createTestSession(
      wordsAgent(
        prompts,
        { keepMessages: 2, compactAfterTokens: 8 * TOKENS_PER_MESSAGE, summarize },
        { model: reporting(lookupModel(prompts)) },
      ),
    );
    // alpha: 2000, 4000; beta: 6000, then 8000, its last call: the next step would compact.
    await runs(s, ["alpha", "beta"]);
    expect(compactions(s)).toHaveLength(0);
    // A regenerate hides beta's 4 messages: its first step is sent 6 (6000 tokens), below the
    // trigger; the 8000 measured a prompt that held messages no longer in it.
    await s.runtime.start({ message: "beta again", replaces: "run_2" });
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(calls).toHaveLength(0);
    expect(compactions(s)).toHaveLength(0);
    expect(prompts.at(-1)?.some(isSummary)).toBe(false);
    // The regenerated run's own last call (8000) is fresh: the next run compacts on it.
    await runs(s, ["gamma"]);
    expect(compactions(s)).toHaveLength(1);
  });
  it("an interrupted call that measured nothing (no usage) does not reset the trigger", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    let calls = 0;
    let hung = false;
    // The first summary call hangs until the interrupt aborts it; later ones answer.
    const summarize = async ({ signal, messages }: SummarizeInput) => {
      if (calls++ === 0) {
        hung = true;
        await new Promise((resolve) => signal.addEventListener("abort", resolve));
        throw signal.reason;
      }
      return `summary of ${messages.length} messages`;
    };
    const s = createTestSession(
      wordsAgent(
        prompts,
        { keepMessages: 2, compactAfterTokens: 3 * TOKENS_PER_MESSAGE, summarize },
        { model: reporting(lookupModel(prompts)) },
      ),
    );
    // alpha's step 2 is sent 4 messages (4000 tokens): beta's step 1 compacts, and its
    // summary hangs: the run is interrupted there.
    await runs(s, ["alpha"]);
    await s.runtime.start({ message: "beta" });
    await stepUntil(s, () => hung);
    await s.runtime.interrupt("stop");
    for (let i = 0; i < 20 && latestRun(s.sql)?.status === "running"; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(latestRun(s.sql)?.status).toBe("interrupted");
    expect(compactions(s)).toHaveLength(0);
    // The interrupted step's call measured nothing (0 tokens): the last figure is still
    // alpha's 4000, and the resumed step compacts before its call.
    const seen = prompts.length;
    await s.runtime.resume({ mode: "continue" });
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("completed");
    const events = s.runtime.ledger.read(0);
    const resumed = events.find((e) => e.kind === "run.resumed")?.seq as number;
    const next = events.find(
      (e): e is LedgerEvent<"step.started"> => e.kind === "step.started" && e.seq > resumed,
    );
    expect(compactions(s)[0]?.data.step).toBe(next?.data.step);
    expect(prompts[seen]?.some(isSummary)).toBe(true);
  });
});
