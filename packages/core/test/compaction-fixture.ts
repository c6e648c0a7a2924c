/**
 * The compacting agent and session the context compaction tests share: a "words" agent whose
 * every run looks the user's text up and then answers (4 messages a run), its prompts recorded,
 * with the `context` option under test; a recording summarizer, a model that dies after a
 * compaction, and the redrive after such a death.
 */
import type {
  LanguageModelV4,
  LanguageModelV4Message,
  LanguageModelV4Prompt,
} from "@ai-sdk/provider";
import * as z from "zod";
import type { ContextOptions, SummarizeInput } from "../src/agent/context-options.ts";
import { SUMMARY_PREFIX } from "../src/agent/message-cache.ts";
import { defineAgent, defineTool, latestRun, scriptedModel } from "../src/index.ts";
import type { LedgerEvent } from "../src/ledger/events.ts";
import { ManualClock, type TestSession } from "../src/testing/index.ts";

export const SYSTEM = "You look things up.";

export const lookup = defineTool({
  name: "lookup",
  description: "Looks a word up",
  input: z.object({ word: z.string() }),
  effect: "pure",
  execute: ({ word }) => `${word}!`,
});

/**
 * Each run: a lookup of the user's text, then an answer. Records the prompts of the agent's
 * steps (system message SYSTEM) in `prompts`; a default summarizer's calls (its own system
 * prompt) are not recorded, and are answered by no rule here (give `model` for them).
 */
export function lookupModel(prompts: LanguageModelV4Prompt[]): LanguageModelV4 {
  return scriptedModel({
    rules: [
      ({ turn, userText, prompt }) => {
        if (prompt[0]?.role === "system" && prompt[0].content === SYSTEM) prompts.push(prompt);
        return turn === 0
          ? { toolCalls: [{ name: "lookup", args: { word: userText } }] }
          : { text: `looked up ${userText}` };
      },
    ],
  });
}

/** The "words" agent with `context`; its model is `lookupModel(prompts)` unless `over` gives one. */
export function wordsAgent(
  prompts: LanguageModelV4Prompt[],
  context: ContextOptions,
  over: Partial<Parameters<typeof defineAgent>[0]> = {},
) {
  return defineAgent({
    name: "words",
    system: SYSTEM,
    tools: [lookup],
    model: lookupModel(prompts),
    context,
    ...over,
  });
}

/** Runs each word to completion, one run each (alarms fired while work is due now). */
export async function runs(s: TestSession, words: readonly string[]): Promise<void> {
  for (const word of words) {
    await s.runtime.start({ message: word });
    await s.drain();
    const status = latestRun(s.sql)?.status;
    if (status !== "completed") throw new Error(`the run of "${word}" ended ${status}`);
  }
}

/** Starts a run and fires alarms (moving the clock past retry backoffs) until it rests. */
export async function settle(s: TestSession, message: string): Promise<void> {
  await s.runtime.start({ message });
  for (let i = 0; i < 10; i++) {
    await s.drain();
    s.clock.advance(120_000);
  }
}

/** Fires alarms (without awaiting a hung one) until `done`: the object then "dies" there. */
export async function stepUntil(s: TestSession, done: () => boolean): Promise<void> {
  for (let i = 0; i < 20 && !done(); i++) {
    void s.runtime.alarm();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A new object on `s`'s storage, its clock a minute on, that fires its alarm and drains: how a
 * session goes on after its object died (a crash, an eviction).
 */
export async function redriven(s: TestSession): Promise<TestSession> {
  const fresh = s.restart({ clock: new ManualClock(s.clock.now() + 60_000) });
  await fresh.runtime.alarm();
  await fresh.drain();
  return fresh;
}

/**
 * `base`, except that its first call that was sent a summary never answers: the object dies
 * there, after the compaction committed. `hangs()`: how many calls were sent a summary so far.
 */
export function diesAfterCompaction(base: LanguageModelV4): {
  model: LanguageModelV4;
  hangs: () => number;
} {
  let hangs = 0;
  const model: LanguageModelV4 = {
    ...base,
    doStream: async (options) => {
      if (options.prompt.some(isSummary) && hangs++ === 0) return new Promise<never>(() => {});
      return base.doStream(options);
    },
  };
  return { model, hangs: () => hangs };
}

/** A summarizer that records what it is given (`calls`) and answers `say(input, calls so far)`. */
export function recordingSummarizer(say: (input: SummarizeInput, calls: number) => string): {
  calls: SummarizeInput[];
  summarize: (input: SummarizeInput) => Promise<string>;
} {
  const calls: SummarizeInput[] = [];
  const summarize = async (input: SummarizeInput) => {
    calls.push(input);
    return say(input, calls.length);
  };
  return { calls, summarize };
}

/** The session's `context.compacted` events, oldest first. */
export function compactions(s: TestSession): LedgerEvent<"context.compacted">[] {
  return s.runtime.ledger
    .read(0)
    .filter((e): e is LedgerEvent<"context.compacted"> => e.kind === "context.compacted");
}

export function isSummary(message: LanguageModelV4Message): boolean {
  return (
    message.role === "user" &&
    message.content.some((p) => p.type === "text" && p.text.startsWith(SUMMARY_PREFIX))
  );
}

/** The summaries the prompts sent the model (each summary message's text after its prefix). */
export function sentSummaries(prompts: readonly LanguageModelV4Prompt[]): string[] {
  return prompts.flatMap((prompt) =>
    prompt.flatMap((m) =>
      m.role === "user"
        ? m.content.flatMap((p) =>
            p.type === "text" && p.text.startsWith(SUMMARY_PREFIX)
              ? [p.text.slice(SUMMARY_PREFIX.length)]
              : [],
          )
        : [],
    ),
  );
}
