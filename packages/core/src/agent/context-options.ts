import type { LanguageModelV4Message } from "@ai-sdk/provider";
import * as z from "zod/mini";
import { check } from "../validation/check.ts";

/** What a summarizer is given: the messages to fold into the summary, and the summary so far. */
export interface SummarizeInput {
  /** The messages leaving the prompt, oldest first, in the provider prompt format. */
  readonly messages: readonly LanguageModelV4Message[];
  /** The summary they follow (of everything before them), or undefined at the first compaction. */
  readonly previousSummary: string | undefined;
  /** Aborted when the run is interrupted or aborted. */
  readonly signal: AbortSignal;
  readonly sessionId: string;
  readonly runId: string;
}

/**
 * Writes the summary that replaces `messages` (and `previousSummary`) in the prompt. Keep it a
 * function of its input: a step that crashes before its compaction is committed calls it again.
 */
export type Summarizer = (input: SummarizeInput) => Promise<string>;

/**
 * Context compaction (the agent's `context` option): before a model call whose prompt holds
 * more than `compactAfterMessages` messages, the older ones are replaced by a summary and the
 * newest `keepMessages` (or a few more, to start at a safe boundary) are kept as they are.
 * See agent/context-compaction.ts and docs/api.md ("Context compaction").
 */
export interface ContextOptions {
  /** Messages the prompt keeps word for word after a compaction (the kept tail), at least 1. */
  readonly keepMessages: number;
  /** Compact when the prompt holds more messages than this (after the summary); above `keepMessages`. */
  readonly compactAfterMessages: number;
  /**
   * Who writes the summary. Default: the agent's own model, with `instructions`; its usage is
   * counted as that model's. A function: yours. `false`: no summary, a plain window (the older
   * messages are dropped from the prompt).
   */
  readonly summarize?: Summarizer | false;
  /** The default summarizer's system prompt (DEFAULT_SUMMARY_INSTRUCTIONS). */
  readonly instructions?: string;
}

const count = (min: number) => z.number().check(z.int(), z.gte(min));

/** The `context` option's one schema. */
const contextOptions = z.object({
  keepMessages: count(1),
  compactAfterMessages: count(2),
  summarize: z.optional(
    z.union([z.literal(false), z.custom<Summarizer>((v) => typeof v === "function")]),
  ),
  instructions: z.optional(z.string().check(z.minLength(1))),
});

/** Checks an agent's `context` option: throws a TypeError naming the field and the fix. */
export function checkContextOptions(agent: string, options: ContextOptions | undefined): void {
  if (options === undefined) return;
  const checked = check(contextOptions, options);
  if (!checked.success) throw new TypeError(`agent "${agent}": context.${checked.summary}`);
  if (options.compactAfterMessages <= options.keepMessages)
    throw new TypeError(
      `agent "${agent}": context.compactAfterMessages (${options.compactAfterMessages}) must be above context.keepMessages (${options.keepMessages}), or every step would compact`,
    );
}
