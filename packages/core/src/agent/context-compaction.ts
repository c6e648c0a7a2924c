import type { LanguageModelV4Prompt } from "@ai-sdk/provider";
import type { Clock } from "../clock.ts";
import type { NewEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { activeCompaction } from "../ledger/projections/compactions.ts";
import { readPrompt } from "../ledger/projections/message-prompts.ts";
import { hidSince, type MessageRole } from "../ledger/projections/message-reads.ts";
import { runTokensOf } from "../ledger/projections/usage-entries.ts";
import type { SqlPort } from "../sql/port.ts";
import type { RunTracer } from "../tracing/run-tracer.ts";
import type { ContextOptions } from "./context-options.ts";
import type { AgentDefinition } from "./define-agent.ts";
import type { MessageCache } from "./message-cache.ts";
import { discardSummary, summarizeOnModel } from "./model-summarizer.ts";
import { callSummarize, checkSummarySize } from "./summarize-function.ts";

/**
 * Context compaction: what the model sees of a long conversation (the agent's `context`
 * option). The field's way (Claude Agent SDK auto-compaction, LangChain's
 * SummarizationMiddleware, Mastra's `lastMessages`): before a model call whose prompt holds
 * more than `compactAfterMessages` messages, or once the last model call's input tokens reached
 * `compactAfterTokens` (the provider's own count, as `model.completed` recorded it), the older
 * messages are replaced by a summary, and the newest `keepMessages` stay word for word.
 *
 * Invariants:
 * 1. Ledger first: a compaction is a `context.compacted` event, committed (by the step's own
 *    attempt, still running) before the model call it serves. A crash before the commit loses
 *    only the summary, and the redriven step summarizes again; a crash after reuses the event.
 * 2. A step compacts in one pass: the kept tail never holds more than `compactAfterMessages`
 *    messages (`compactionCut`), and the token trigger reads only a model call made after the
 *    active compaction and after any message was hidden (`lastInputTokens`: a figure measured
 *    before either is stale; a regenerate's prompt is shorter than the one measured), so a
 *    retried or replayed step finds nothing more to compact; and a commit is refused when the
 *    active compaction moved since the summary began (a second performer of the same attempt,
 *    on the Workflow executor, compacted first; its summary call's usage is recorded all the
 *    same, model-summarizer.ts). The pass may commit several `context.compacted` events: a summary folds in at most
 *    `compactAfterMessages` messages per call, so any compaction of more (a long conversation's
 *    first, one after a rewind dropped the summary, a step after a burst of messages) is made
 *    in chunks, one event each, each summary folding in the one before. With the token trigger
 *    alone, one call folds in everything before the kept tail (it fit the last model call).
 * 3. The kept tail starts at a safe boundary: never at a tool message (its call is in the
 *    assistant message before it), preferably at a user message; so does every chunk's cut.
 * 4. The prompt after a compaction is the system message, the summary (a user message), then
 *    the messages after `throughIndex`, read as a range of the messages projection (a woken
 *    object reads only the tail). A plain window (`summarize: false`) has no summary: when its
 *    tail does not start with a user message (a long tool run), the latest user message before
 *    the cut is pinned in the summary's place (message-cache.ts), so every prompt opens with a
 *    user turn, as providers require, and holds at most `compactAfterMessages` + 1 messages.
 *    Clients still read the whole conversation.
 * 5. A summary is a non-empty string of at most MAX_SUMMARY_BYTES; a `summarize` function is
 *    raced against the step's signal and its timeout (summarize-function.ts).
 */

/** What the driver gives a compaction: the step, its signal, and its guarded commit. */
export interface CompactionCall {
  readonly runId: string;
  readonly step: number;
  readonly attempt: number;
  readonly signal: AbortSignal;
  /** Appends the event if the step's attempt is still the run's current one; false if not. */
  readonly commit: (
    event: NewEvent<"context.compacted"> | NewEvent<"context.summary_discarded">,
  ) => boolean;
}

export interface ContextCompactorOptions {
  readonly sql: SqlPort;
  readonly ledger: Ledger;
  readonly agent: AgentDefinition;
  readonly env: Record<string, unknown>;
  readonly sessionId: string;
  readonly clock: Clock;
  readonly cache: MessageCache;
  /** Traces the default summarizer's calls (model-summarizer.ts); absent: no tracing. */
  readonly tracer?: RunTracer;
}

export class ContextCompactor {
  readonly #o: ContextCompactorOptions;

  constructor(options: ContextCompactorOptions) {
    this.#o = options;
  }

  /** The prompt of a model call: compacted first when the agent's `context` says it is due. */
  async prompt(call: CompactionCall): Promise<LanguageModelV4Prompt> {
    const { agent, cache, ledger } = this.#o;
    const prompt = cache.prompt(agent.system, ledger.tail);
    const options = agent.context;
    if (!options) return prompt;
    const trigger = dueTrigger(options, cache.count, () =>
      lastInputTokens(ledger, this.#o.sql, cache.compaction?.seq ?? 0),
    );
    if (trigger === undefined) return prompt;
    await this.#compact(options, call, trigger);
    return cache.prompt(agent.system, ledger.tail);
  }

  /** Summarizes and commits, chunk by chunk; false when nothing was committed. */
  async #compact(
    options: ContextOptions,
    call: CompactionCall,
    trigger: Trigger,
  ): Promise<boolean> {
    const { sql, cache } = this.#o;
    /** The compaction this one follows: if another performer of the step moved it, stop. */
    let base = cache.compaction?.seq;
    let after = cache.compaction?.throughIndex ?? 0;
    let summary = cache.compaction?.summary || undefined;
    const rows = promptRows(sql, after);
    const roles = rows.map((r) => r.role);
    const cut = compactionCut(roles, options, trigger);
    if (cut === undefined) return false;
    let committed = false;
    // A plain window drops everything at once; a summary is made in chunks of at most
    // compactAfterMessages messages, one event each (invariant 2), so each call fits the model.
    const chunk = options.summarize === false ? cut : (options.compactAfterMessages ?? cut);
    for (let start = 0; start < cut; ) {
      const end = chunkEnd(roles, start, cut, chunk);
      const through = rows[end - 1]?.index ?? after;
      const written = await this.#summarize(options, call, { after, through }, summary);
      if (written === undefined) return committed;
      const event: NewEvent<"context.compacted"> = {
        kind: "context.compacted",
        runId: call.runId,
        data: { step: call.step, throughIndex: through, messages: end - start, ...written },
      };
      if (activeCompaction(sql)?.seq !== base) {
        // Another performer of the step compacted first: this summary call was for nothing.
        discardSummary(call, written, "superseded");
        return committed;
      }
      if (!call.commit(event)) return committed;
      committed = true;
      cache.invalidate();
      base = activeCompaction(sql)?.seq;
      after = through;
      summary = written.summary || undefined;
      start = end;
    }
    return committed;
  }

  async #summarize(
    options: ContextOptions,
    call: CompactionCall,
    range: { readonly after: number; readonly through: number },
    previousSummary: string | undefined,
  ): Promise<
    Pick<NewEvent<"context.compacted">["data"], "summary" | "model" | "usage"> | undefined
  > {
    const { signal } = call;
    if (options.summarize === false) return { summary: "" };
    const messages = readPrompt(this.#o.sql, range).messages;
    const { clock, sessionId } = this.#o;
    if (options.summarize) {
      const input = { messages, previousSummary, signal, sessionId, runId: call.runId };
      const summary = await callSummarize(
        options.summarize,
        input,
        clock,
        options.summarizeTimeoutMs,
      );
      if (summary !== undefined) checkSummarySize(summary, "context.summarize");
      return summary === undefined ? undefined : { summary };
    }
    return summarizeOnModel(this.#o, options, call, { messages, previousSummary });
  }
}

/** The model-visible messages after `afterIndex`, in order (the rows `readPrompt` sends). */
function promptRows(sql: SqlPort, afterIndex: number): { index: number; role: MessageRole }[] {
  return sql
    .exec<{ idx: number; role: MessageRole }>(
      "SELECT idx, role FROM messages WHERE idx > ? AND hidden = 0 AND (prompt IS NOT NULL OR streaming = 1) ORDER BY idx",
      afterIndex,
    )
    .map((r) => ({ index: r.idx, role: r.role }));
}

/** What made a compaction due: the prompt's message count, or the last call's input tokens. */
export type Trigger = "messages" | "tokens";

/**
 * Which trigger makes a compaction due before a model call, if any: the prompt holds more than
 * `compactAfterMessages` messages (`count`, after the summary), or the last model call's input
 * tokens (`inputTokens`, read only when the option is set) reached `compactAfterTokens`.
 */
export function dueTrigger(
  { compactAfterMessages, compactAfterTokens }: ContextOptions,
  count: number,
  inputTokens: () => number | undefined,
): Trigger | undefined {
  if (compactAfterMessages !== undefined && count > compactAfterMessages) return "messages";
  if (compactAfterTokens === undefined) return undefined;
  const tokens = inputTokens();
  return tokens !== undefined && tokens >= compactAfterTokens ? "tokens" : undefined;
}

/**
 * The input tokens the session's last step model call reported (its `model.completed` usage,
 * by runTokensOf, the one rule for a call's tokens), if it was made after the event `afterSeq`
 * (the active compaction) and no message was hidden since (a regenerate, a checkpoint rewind):
 * a call before either measured a prompt since compacted or cut short (invariant 2). A call an
 * interrupt cut short before it reported usage measured nothing: the call before it counts.
 * Read from the ledger's tail back, down to `afterSeq` at most, then the messages changed since
 * the call.
 */
export function lastInputTokens(
  ledger: Ledger,
  sql: SqlPort,
  afterSeq: number,
): number | undefined {
  let call = ledger.latest("model.completed", afterSeq);
  while (call && call.data.finishReason === "interrupted" && !runTokensOf(call)?.inputTokens)
    call = ledger.latest("model.completed", afterSeq, call.seq);
  if (call === undefined || hidSince(sql, call.seq)) return undefined;
  return runTokensOf(call)?.inputTokens;
}

/**
 * Where the kept tail starts, as a position in `roles` (the prompt's messages after the current
 * summary), or undefined when nothing can be compacted: up to the trigger (`compactAfterMessages`
 * messages, or `keepMessages` when the token trigger fired). From `length - keepMessages`, back
 * to the nearest user message while the tail stays within `compactAfterMessages` (invariants 2,
 * 3; without that option, only the `keepMessages` point itself); without one there, back to the
 * nearest message that is not a tool result.
 */
export function compactionCut(
  roles: readonly MessageRole[],
  {
    keepMessages,
    compactAfterMessages,
  }: Pick<ContextOptions, "keepMessages" | "compactAfterMessages">,
  trigger: Trigger = "messages",
): number | undefined {
  const least = trigger === "tokens" ? keepMessages : compactAfterMessages;
  if (least === undefined || roles.length <= least) return undefined;
  const start = roles.length - keepMessages;
  const floor = Math.max(1, roles.length - (compactAfterMessages ?? keepMessages));
  for (let p = start; p >= floor; p--) if (roles[p] === "user") return p;
  for (let p = start; p >= 1; p--) if (roles[p] !== "tool") return p;
  return undefined;
}

/** The end of a chunk from `start`: at most `size` messages, never cutting before a tool result. */
function chunkEnd(roles: readonly MessageRole[], start: number, cut: number, size: number): number {
  if (cut - start <= size) return cut;
  for (let end = start + size; end > start; end--) if (roles[end] !== "tool") return end;
  return cut;
}
