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
 * more than `compactAfterMessages` messages, or once the last model call's input tokens reached
 * `compactAfterTokens` (either trigger, or both), the older messages are replaced by a summary
 * and the newest `keepMessages` (or a few more, to start at a safe boundary) are kept as they
 * are. See agent/context-compaction.ts and docs/api.md ("Context compaction").
 */
export interface ContextOptions {
  /** Messages the prompt keeps word for word after a compaction (the kept tail), at least 1. */
  readonly keepMessages: number;
  /**
   * Compact when the prompt holds more messages than this (after the summary); above
   * `keepMessages`. Also the most messages one summary call folds in. Set it,
   * `compactAfterTokens`, or both.
   */
  readonly compactAfterMessages?: number;
  /**
   * Compact before a model call once the session's last model call (a step's, made after the
   * active compaction) reported at least this many input tokens: its `model.completed` usage,
   * cached tokens included, as the provider counts them. Set it below the model's context
   * window by what one step may add (a user message, tool results). Set it,
   * `compactAfterMessages`, or both.
   */
  readonly compactAfterTokens?: number;
  /**
   * Who writes the summary. Default: the agent's own model, with `instructions`; its usage is
   * counted as that model's. A function: yours, answering a non-empty string (else the step
   * fails with a `SummarizeError`), raced against an interrupt and `summarizeTimeoutMs`.
   * `false`: no summary, a plain window (the older messages are dropped from the prompt; the
   * latest user message cut off is kept before a tail that opens at an assistant turn).
   */
  readonly summarize?: Summarizer | false;
  /**
   * The default summarizer's system prompt (DEFAULT_SUMMARY_INSTRUCTIONS). Only with the default
   * summarizer: refused next to a `summarize` function (yours writes its own prompt) or `false`.
   */
  readonly instructions?: string;
  /**
   * How long one call of a `summarize` function may take, in ms (default 120 000,
   * DEFAULT_SUMMARIZE_TIMEOUT_MS); past it the step fails with a retryable `summarize_timeout`
   * and is retried. The default summarizer is bounded by the agent's `modelTimeouts` instead.
   */
  readonly summarizeTimeoutMs?: number;
}

const count = (min: number) => z.number().check(z.int(), z.gte(min));

/** The `context` option's one schema: unknown keys are refused (a misspelt key does nothing). */
const contextOptions = z.strictObject({
  keepMessages: count(1),
  compactAfterMessages: z.optional(count(2)),
  compactAfterTokens: z.optional(count(1)),
  summarize: z.optional(
    z.union([z.literal(false), z.custom<Summarizer>((v) => typeof v === "function")]),
  ),
  instructions: z.optional(z.string().check(z.minLength(1))),
  summarizeTimeoutMs: z.optional(count(1)),
});

const KEYS = Object.keys(contextOptions.shape);

/** What each field takes, said when its value is refused. */
const TAKES: Record<string, string> = {
  keepMessages: "an integer of at least 1 (the messages kept word for word)",
  compactAfterMessages:
    "an integer above keepMessages (compact when the prompt holds more messages)",
  compactAfterTokens:
    "an integer of at least 1 (compact once the last model call's input tokens reach it)",
  summarize:
    "a function ({ messages, previousSummary, signal, sessionId, runId }) => Promise<string>, or false for a plain window (no summary); leave it out for the default summarizer (the agent's model)",
  instructions: "a non-empty string (the default summarizer's system prompt)",
  summarizeTimeoutMs: "an integer of at least 1 (ms one summarize call may take)",
};

/**
 * Checks an agent's `context` option: throws a TypeError naming the field (`context.<key>`),
 * what it takes, and the fix.
 */
export function checkContextOptions(agent: string, options: ContextOptions | undefined): void {
  if (options === undefined) return;
  const refuse = (problem: string) => {
    throw new TypeError(`agent "${agent}": ${problem}`);
  };
  if (typeof options !== "object" || options === null || Array.isArray(options))
    refuse(
      "context must be an object { keepMessages, compactAfterMessages?, compactAfterTokens?, summarize?, instructions?, summarizeTimeoutMs? }, or left out for no compaction",
    );
  const unknown = Object.keys(options).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0)
    refuse(
      `${unknown.map((k) => `context.${k}`).join(", ")} is not an option of context; its options are ${KEYS.join(", ")}`,
    );
  const checked = check(contextOptions, options);
  if (!checked.success) {
    const fields = [...new Set(checked.issues.map((i) => i.path.split(".")[0] ?? ""))];
    refuse(fields.map((f) => `context.${f} must be ${TAKES[f] ?? "valid"}`).join("; "));
  }
  if (options.compactAfterMessages === undefined && options.compactAfterTokens === undefined)
    refuse(
      "context has no trigger: set context.compactAfterMessages (compact when the prompt holds more messages than it, above keepMessages), context.compactAfterTokens (compact once the last model call's input tokens reach it), or both",
    );
  if (
    options.compactAfterMessages !== undefined &&
    options.compactAfterMessages <= options.keepMessages
  )
    refuse(
      `context.compactAfterMessages (${options.compactAfterMessages}) must be above context.keepMessages (${options.keepMessages}), or every step would compact`,
    );
  if (options.instructions !== undefined && options.summarize !== undefined)
    refuse(
      options.summarize === false
        ? "context.instructions is the default summarizer's prompt, and context.summarize is false (no summary): drop instructions"
        : "context.instructions is the default summarizer's prompt, and context.summarize is your own function, which never sees it: drop instructions (put the prompt in your summarize function), or drop summarize to use the default summarizer with them",
    );
}
