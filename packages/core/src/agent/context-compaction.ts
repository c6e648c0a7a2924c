import type { LanguageModelV4Prompt } from "@ai-sdk/provider";
import type { Clock } from "../clock.ts";
import type { NewEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { activeCompaction } from "../ledger/projections/compactions.ts";
import { readPrompt } from "../ledger/projections/message-prompts.ts";
import type { MessageRole } from "../ledger/projections/messages.ts";
import type { SqlPort } from "../sql/port.ts";
import type { ContextOptions } from "./context-options.ts";
import { type AgentDefinition, resolveModel } from "./define-agent.ts";
import type { MessageCache } from "./message-cache.ts";
import { DEFAULT_MODEL_TIMEOUTS, ModelWatchdog } from "./model-timeouts.ts";
import { DEFAULT_SUMMARY_INSTRUCTIONS, summarizeWithModel } from "./summarize.ts";

/**
 * Context compaction: what the model sees of a long conversation (the agent's `context`
 * option). The field's way (Claude Agent SDK auto-compaction, LangChain's
 * SummarizationMiddleware, Mastra's `lastMessages`): before a model call whose prompt holds
 * more than `compactAfterMessages` messages, the older ones are replaced by a summary, and the
 * newest `keepMessages` stay word for word.
 *
 * Invariants:
 * 1. Ledger first: a compaction is a `context.compacted` event, committed (by the step's own
 *    attempt, still running) before the model call it serves. A crash before the commit loses
 *    only the summary, and the redriven step summarizes again; a crash after reuses the event.
 * 2. A step compacts at most once: the kept tail never holds more than `compactAfterMessages`
 *    messages (`compactionCut`), so a retried or replayed step finds nothing to compact; and a
 *    commit is refused when the active compaction moved since the summary began (a second
 *    performer of the same attempt, on the Workflow executor, compacted first).
 * 3. The kept tail starts at a safe boundary: never at a tool message (its call is in the
 *    assistant message before it), preferably at a user message; so does every intermediate
 *    cut of a first compaction made in chunks.
 * 4. The prompt after a compaction is the system message, the summary (a user message), then
 *    the messages after `throughIndex`, read as a range of the messages projection (a woken
 *    object reads only the tail). Clients still read the whole conversation.
 */

/** What the driver gives a compaction: the step, its signal, and its guarded commit. */
export interface CompactionCall {
  readonly runId: string;
  readonly step: number;
  readonly signal: AbortSignal;
  /** Appends the event if the step's attempt is still the run's current one; false if not. */
  readonly commit: (event: NewEvent<"context.compacted">) => boolean;
}

export interface ContextCompactorOptions {
  readonly sql: SqlPort;
  readonly ledger: Ledger;
  readonly agent: AgentDefinition;
  readonly env: Record<string, unknown>;
  readonly sessionId: string;
  readonly clock: Clock;
  readonly cache: MessageCache;
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
    if (!options || cache.count <= options.compactAfterMessages) return prompt;
    await this.#compact(options, call);
    return cache.prompt(agent.system, ledger.tail);
  }

  /** Summarizes and commits, chunk by chunk; false when nothing was committed. */
  async #compact(options: ContextOptions, call: CompactionCall): Promise<boolean> {
    const { sql, cache } = this.#o;
    /** The compaction this one follows: if another performer of the step moved it, stop. */
    let base = cache.compaction?.seq;
    let after = cache.compaction?.throughIndex ?? 0;
    let summary = cache.compaction?.summary || undefined;
    const rows = promptRows(sql, after);
    const roles = rows.map((r) => r.role);
    const cut = compactionCut(roles, options);
    if (cut === undefined) return false;
    let committed = false;
    // A plain window drops everything at once; a summary is made in chunks of at most
    // compactAfterMessages messages (a first compaction of a long session fits the model).
    const chunk = options.summarize === false ? cut : options.compactAfterMessages;
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
      if (activeCompaction(sql)?.seq !== base || !call.commit(event)) return committed;
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
    if (options.summarize) {
      const { sessionId } = this.#o;
      try {
        const text = await options.summarize({
          messages,
          previousSummary,
          signal,
          sessionId,
          runId: call.runId,
        });
        return signal.aborted ? undefined : { summary: String(text) };
      } catch (error) {
        // Aborted by an interrupt: nothing to commit, and the model call sees the abort too.
        if (signal.aborted) return undefined;
        throw error;
      }
    }
    const { agent, env, clock } = this.#o;
    const model = resolveModel(agent, env);
    const instructions = options.instructions ?? DEFAULT_SUMMARY_INSTRUCTIONS;
    const timeouts = { ...DEFAULT_MODEL_TIMEOUTS, ...agent.modelTimeouts };
    const watchdog = new ModelWatchdog(clock, timeouts, `${model.provider}:${model.modelId}`);
    return summarizeWithModel(model, instructions, { messages, previousSummary, signal }, watchdog);
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

/**
 * Where the kept tail starts, as a position in `roles` (the prompt's messages after the current
 * summary), or undefined when nothing can be compacted. From `length - keepMessages`, back to
 * the nearest user message while the tail stays within `compactAfterMessages` (invariants 2, 3);
 * without one there, back to the nearest message that is not a tool result.
 */
export function compactionCut(
  roles: readonly MessageRole[],
  {
    keepMessages,
    compactAfterMessages,
  }: Pick<ContextOptions, "keepMessages" | "compactAfterMessages">,
): number | undefined {
  if (roles.length <= compactAfterMessages) return undefined;
  const start = roles.length - keepMessages;
  const floor = Math.max(1, roles.length - compactAfterMessages);
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
