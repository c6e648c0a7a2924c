/**
 * The usage of a default summarizer's call whose summary no compaction carries: the provider
 * bills it, so it is recorded (`context.summary_discarded`) and counted by the one usage rule
 * (usageFactOf, runTokensOf): the run's usage, GET .../usage, the usage entries.
 */
import type { LanguageModelV4, LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { MAX_SUMMARY_BYTES } from "../src/agent/summarize-function.ts";
import { getRun, latestRun, type RunRecord, scriptedModel } from "../src/index.ts";
import type { LedgerEvent } from "../src/ledger/events.ts";
import { usageSummary } from "../src/ledger/projections/usage.ts";
import { listUsageEntries, runUsage } from "../src/ledger/projections/usage-entries.ts";
import { createTestSession, type TestSession } from "../src/testing/index.ts";
import { compactions, runs, SYSTEM, settle, stepUntil, wordsAgent } from "./compaction-fixture.ts";

/** The agent's model: `summary` answers a summary request, the steps look words up. */
function summarizing(summary: string): LanguageModelV4 {
  return scriptedModel({
    modelId: "words-model",
    chunkSize: 64 * 1024,
    rules: [
      ({ prompt }) =>
        prompt[0]?.role === "system" && prompt[0].content !== SYSTEM
          ? { text: summary }
          : undefined,
      ({ turn, userText }) =>
        turn === 0
          ? { toolCalls: [{ name: "lookup", args: { word: userText } }] }
          : { text: `looked up ${userText}` },
    ],
  });
}

function discarded(s: TestSession): LedgerEvent<"context.summary_discarded">[] {
  return s.runtime.ledger
    .read(0)
    .filter(
      (e): e is LedgerEvent<"context.summary_discarded"> => e.kind === "context.summary_discarded",
    );
}

/** The model tokens of every model call the ledger recorded for `runId`, summed by hand. */
function modelTokens(s: TestSession, runId: string): { inputTokens: number; outputTokens: number } {
  let inputTokens = 0;
  let outputTokens = 0;
  for (const e of s.runtime.ledger.read(0)) {
    if (e.runId !== runId) continue;
    const usage =
      e.kind === "model.completed" || e.kind === "context.summary_discarded"
        ? e.data.usage
        : e.kind === "context.compacted"
          ? e.data.usage
          : undefined;
    inputTokens += usage?.inputTokens ?? 0;
    outputTokens += usage?.outputTokens ?? 0;
  }
  return { inputTokens, outputTokens };
}

describe("a summary call whose summary is not committed", () => {
  it("an empty summary (retried, then the run fails): every call's usage is counted", async () => {
    const s = createTestSession(
      wordsAgent([], { keepMessages: 3, compactAfterMessages: 6 }, { model: summarizing(" ") }),
      { pump: { backoffBaseMs: 10 } },
    );
    await runs(s, ["alpha"]);
    await settle(s, "beta");
    const run = latestRun(s.sql);
    expect(run?.status).toBe("failed");
    expect(run?.error?.code).toBe("empty_summary");
    expect(compactions(s)).toHaveLength(0);
    const made = discarded(s);
    // One per attempt of the step: each call answered, and each was billed.
    const attempts = s.runtime.ledger
      .read(0)
      .filter((e) => e.kind === "step.started" && e.runId === run?.runId && e.data.step === 2);
    expect(made.length).toBe(attempts.length);
    expect(made.length).toBeGreaterThan(1);
    for (const e of made) {
      expect(e.runId).toBe(run?.runId);
      expect(e.data).toMatchObject({
        step: 2,
        model: "scripted:words-model",
        reason: "empty_summary",
      });
      expect(e.data.usage.inputTokens).toBeGreaterThan(0);
    }
    // The run's usage (a sub-agent's reply, AG-UI, the UI stream) counts them.
    const runId = run?.runId as string;
    const tokens = runUsage(s.sql, getRun(s.sql, runId) as RunRecord);
    expect(tokens).toEqual(modelTokens(s, runId));
    const summaryInput = made.reduce((n, e) => n + e.data.usage.inputTokens, 0);
    const stepsInput = s.runtime.ledger
      .read(0)
      .flatMap((e) => (e.kind === "model.completed" && e.runId === runId ? [e.data.usage] : []))
      .reduce((n, u) => n + u.inputTokens, 0);
    expect(tokens.inputTokens).toBe(stepsInput + summaryInput);
    // GET .../usage: a call of the agent's model each; the usage entries: one each, at step 2.
    const calls = usageSummary(s.sql).models.find((m) => m.model === "scripted:words-model");
    const steps = s.runtime.ledger.read(0).filter((e) => e.kind === "model.completed").length;
    expect(calls?.calls).toBe(steps + made.length);
    const entries = listUsageEntries(s.sql, { runId, kinds: ["model"], fromStep: 2, toStep: 2 });
    expect(entries.entries.map((e) => e.seq)).toEqual(made.map((e) => e.seq));
  });

  it("a summary too large for its event (the run fails at once): its usage is counted", async () => {
    const s = createTestSession(
      wordsAgent(
        [],
        { keepMessages: 3, compactAfterMessages: 6 },
        { model: summarizing("x".repeat(MAX_SUMMARY_BYTES + 1)) },
      ),
    );
    await runs(s, ["alpha"]);
    await settle(s, "beta");
    const run = latestRun(s.sql);
    expect(run?.status).toBe("failed");
    expect(run?.error?.code).toBe("summary_too_large");
    expect(compactions(s)).toHaveLength(0);
    const made = discarded(s);
    expect(made).toHaveLength(1);
    expect(made[0]?.data).toMatchObject({ step: 2, reason: "summary_too_large" });
    expect(made[0]?.data.usage.outputTokens).toBeGreaterThan(MAX_SUMMARY_BYTES / 4 - 1);
    const runId = run?.runId as string;
    expect(runUsage(s.sql, getRun(s.sql, runId) as RunRecord)).toEqual(modelTokens(s, runId));
  });

  it("a summary call cut short by an interrupt, after it reported usage: its usage is counted", async () => {
    const base = summarizing("they looked up alpha");
    let blocked = false;
    const model: LanguageModelV4 = {
      ...base,
      doStream: async (options) => {
        const system = options.prompt[0];
        if (system?.role !== "system" || system.content === SYSTEM) return base.doStream(options);
        // The summary call: its text and usage arrive, then the stream stalls until aborted.
        const { stream } = await base.doStream(options);
        const reader = stream.getReader();
        const signal = options.abortSignal;
        return {
          stream: new ReadableStream<LanguageModelV4StreamPart>({
            async pull(controller) {
              const { done, value } = await reader.read();
              if (!done) return controller.enqueue(value);
              blocked = true;
              await new Promise((resolve) => signal?.addEventListener("abort", resolve));
              controller.error(signal?.reason);
            },
          }),
        };
      },
    };
    const s = createTestSession(
      wordsAgent([], { keepMessages: 3, compactAfterMessages: 6 }, { model }),
    );
    await runs(s, ["alpha"]);
    await s.runtime.start({ message: "beta" });
    await stepUntil(s, () => blocked);
    expect(blocked).toBe(true);
    await s.runtime.interrupt("stop");
    for (let i = 0; i < 20 && latestRun(s.sql)?.status === "running"; i++)
      await new Promise((r) => setTimeout(r, 10));
    const run = latestRun(s.sql);
    expect(run?.status).toBe("interrupted");
    expect(compactions(s)).toHaveLength(0);
    const made = discarded(s);
    expect(made).toHaveLength(1);
    expect(made[0]?.data).toMatchObject({ step: 2, reason: "interrupted" });
    // Recorded while the run still ran, before the step's run.interrupted.
    const end = s.runtime.ledger.read(0).find((e) => e.kind === "run.interrupted");
    expect(made[0]?.seq).toBeLessThan(end?.seq as number);
    expect(made[0]?.data.usage.inputTokens).toBeGreaterThan(0);
    const runId = run?.runId as string;
    expect(runUsage(s.sql, getRun(s.sql, runId) as RunRecord)).toEqual(modelTokens(s, runId));
  });

  it("a committed summary is counted once, in its context.compacted", async () => {
    const s = createTestSession(
      wordsAgent([], { keepMessages: 3, compactAfterMessages: 6 }, { model: summarizing("ok") }),
    );
    await runs(s, ["alpha", "beta"]);
    expect(compactions(s)).toHaveLength(1);
    expect(discarded(s)).toHaveLength(0);
  });
  it("a summary made needless by a compaction committed meanwhile (superseded): not committed, its usage counted", async () => {
    const base = summarizing("they looked up alpha");
    let s: TestSession | undefined;
    let raced = false;
    const model: LanguageModelV4 = {
      ...base,
      doStream: async (options) => {
        const system = options.prompt[0];
        // The summary call: another performer of the step commits its compaction meanwhile.
        if (system?.role === "system" && system.content !== SYSTEM && !raced && s) {
          raced = true;
          s.runtime.ledger.append([
            {
              kind: "context.compacted",
              runId: latestRun(s.sql)?.runId as string,
              data: { step: 1, throughIndex: 4, messages: 4, summary: "the other performer's" },
            },
          ]);
        }
        return base.doStream(options);
      },
    };
    s = createTestSession(wordsAgent([], { keepMessages: 3, compactAfterMessages: 6 }, { model }));
    await runs(s, ["alpha", "beta"]);
    expect(raced).toBe(true);
    // Only the other performer's compaction; this summary call's usage in a discarded event.
    expect(compactions(s).map((e) => e.data.summary)).toEqual(["the other performer's"]);
    const made = discarded(s);
    expect(made.map((e) => e.data.reason)).toEqual(["superseded"]);
    expect(made[0]?.data.usage.inputTokens).toBeGreaterThan(0);
    const runId = latestRun(s.sql)?.runId as string;
    expect(runUsage(s.sql, getRun(s.sql, runId) as RunRecord)).toEqual(modelTokens(s, runId));
  });
});
