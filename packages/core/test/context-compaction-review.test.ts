/**
 * Review of context compaction (failing tests for what the review found): a user's `summarize`
 * that answers with no string or an empty one, an interrupt while a `summarize` that ignores its
 * signal runs, and the run's usage as AG-UI and the UI stream report it against GET .../usage.
 */
import type { LanguageModelV4, LanguageModelV4Prompt } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import type { ContextOptions } from "../src/agent/context-options.ts";
import { getRun, latestRun, type RunRecord, scriptedModel } from "../src/index.ts";
import { runUsage } from "../src/ledger/projections/usage-entries.ts";
import { createTestSession } from "../src/testing/index.ts";
import { createAguiProjector } from "../src/wire/agui/agui-projector.ts";
import { createUiStreamProjector } from "../src/wire/ui-stream/ui-stream-projector.ts";
import {
  compactions,
  settle as run,
  SYSTEM,
  sentSummaries,
  wordsAgent,
} from "./compaction-fixture.ts";

/** The "words" agent with `context`, on `model` when given. */
const words = (
  prompts: LanguageModelV4Prompt[],
  context: ContextOptions,
  model?: LanguageModelV4,
) => wordsAgent(prompts, context, model ? { model } : {});

describe("a summarize function's answer", () => {
  // `String(text)` in context-compaction.ts: a summarize that forgets to return (undefined) or
  // returns an object commits "undefined" / "[object Object]" as the summary, and the model is
  // told that is the earlier conversation; the messages it replaced are gone from every prompt.
  for (const [name, answer] of [
    ["undefined (a forgotten return)", undefined],
    ["an object", { text: "a summary" }],
  ] as const)
    it(`that is ${name} is refused, never sent to the model as the summary`, async () => {
      const prompts: LanguageModelV4Prompt[] = [];
      const summarize = (async () => answer) as unknown as ContextOptions["summarize"];
      const s = createTestSession(
        words(prompts, { keepMessages: 3, compactAfterMessages: 6, summarize }),
      );
      await run(s, "alpha");
      await run(s, "beta");
      expect(compactions(s).map((e) => e.data.summary)).toEqual([]);
      expect(sentSummaries(prompts)).toEqual([]);
    });

  // The default summarizer refuses an empty answer (retryable `empty_summary`); a summarize
  // function's "" is committed, and the compaction silently becomes a plain window: the older
  // messages leave the prompt with no summary, which only `summarize: false` asks for.
  it('that is "" does not silently drop the older messages as a plain window', async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    const s = createTestSession(
      words(prompts, { keepMessages: 3, compactAfterMessages: 6, summarize: async () => "" }),
    );
    await run(s, "alpha");
    await run(s, "beta");
    expect(compactions(s).filter((e) => e.data.summary === "")).toEqual([]);
    expect(prompts.some((p) => JSON.stringify(p).includes("alpha"))).toBe(true);
    for (const prompt of prompts.slice(2))
      if (!JSON.stringify(prompt).includes("alpha"))
        expect(sentSummaries([prompt])).not.toEqual([]);
  });
});

describe("an interrupt while a summarize runs", () => {
  // The model call is bounded by the agent's modelTimeouts (a watchdog) and returns on abort;
  // a summarize function is awaited as is. One that ignores its signal keeps the run
  // "running" after POST .../interrupt, with nothing to commit, until the object is evicted.
  it("stops the run even when the summarize ignores its signal", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    let calls = 0;
    const s = createTestSession(
      words(prompts, {
        keepMessages: 3,
        compactAfterMessages: 6,
        summarize: () => {
          calls++;
          return new Promise<string>(() => {});
        },
      }),
    );
    await run(s, "alpha");
    await s.runtime.start({ message: "beta" });
    for (let i = 0; i < 20 && calls === 0; i++) {
      void s.runtime.alarm();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(calls).toBe(1);
    await s.runtime.interrupt("stop");
    for (let i = 0; i < 20 && latestRun(s.sql)?.status === "running"; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(latestRun(s.sql)?.status).toBe("interrupted");
  });
});

describe("a run's usage with the default summarizer", () => {
  // GET .../usage (usageFactOf) counts the summary call's tokens; AG-UI's RUN_FINISHED usage
  // and the UI stream's finish metadata sum only model.completed, so they report less.
  it("is the same in AG-UI RUN_FINISHED, the UI stream's finish and GET .../usage", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    const model = scriptedModel({
      rules: [
        ({ prompt }) =>
          prompt[0]?.role === "system" && prompt[0].content !== SYSTEM
            ? { text: "they looked up alpha" }
            : undefined,
        ({ turn, userText }) =>
          turn === 0
            ? { toolCalls: [{ name: "lookup", args: { word: userText } }] }
            : { text: `looked up ${userText}` },
      ],
    });
    const s = createTestSession(
      words(prompts, { keepMessages: 3, compactAfterMessages: 6 }, model),
    );
    await run(s, "alpha");
    await run(s, "beta");
    const [made] = compactions(s);
    expect(made?.data.usage?.inputTokens).toBeGreaterThan(0);
    const runId = made?.runId as string;
    const expected = runUsage(s.sql, getRun(s.sql, runId) as RunRecord);
    const events = s.runtime.ledger.read(0);

    const agui = createAguiProjector({ threadId: "s1" });
    const finished = events
      .flatMap((e) => agui.map(e))
      .filter((e) => e.type === "RUN_FINISHED" && (e as { runId?: string }).runId === runId);
    const aguiUsage = (finished.at(-1) as { usage?: { inputTokens: number }[] }).usage;
    expect(aguiUsage?.reduce((n, u) => n + u.inputTokens, 0)).toBe(expected.inputTokens);

    const ui = createUiStreamProjector();
    const finish = events
      .filter((e) => e.runId === runId || e.runId === null)
      .flatMap((e) => ui.map(e))
      .filter((c) => c.type === "finish");
    const meta = (finish.at(-1) as { messageMetadata?: { usage?: { inputTokens: number } } })
      .messageMetadata;
    expect(meta?.usage?.inputTokens).toBe(expected.inputTokens);
  });
});
