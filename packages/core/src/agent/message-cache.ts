import type { LanguageModelV4Message, LanguageModelV4Prompt } from "@ai-sdk/provider";
import { activeCompaction, type Compaction } from "../ledger/projections/compactions.ts";
import { latestUserPrompt, readPrompt } from "../ledger/projections/message-prompts.ts";
import { changedMessages } from "../ledger/projections/messages.ts";
import type { SqlPort } from "../sql/port.ts";
import { convert } from "./prompt.ts";

/**
 * How much converted conversation (bytes of JSON) a session object keeps while no run is
 * going: 256 KiB. Above it, `release()` drops the cache when a run stops, so an idle
 * object holds at most this much of its conversation (docs/scale.md, "Memory per
 * session object").
 */
export const IDLE_MESSAGE_CACHE_BYTES = 256 * 1024;

/**
 * The conversation kept in memory, so that building a prompt does not re-read
 * the whole history on every step. Loaded in one statement of the messages' stored
 * provider-format JSON (`readPrompt`: no message is read or converted one by one), then
 * refreshed with only the rows changed since the last seq it saw: a change to a message
 * newer than the load is converted into the tail; a change to an older one (a regenerated
 * turn, a checkpoint rewind hiding it) loads the whole prompt again, which is that same one
 * statement. Between runs it is kept only up to IDLE_MESSAGE_CACHE_BYTES (`release`).
 *
 * With `compacted` (the agent has a `context` option), it holds the prompt from the active
 * compaction on: its summary, then only the messages after its `throughIndex`, read as a range
 * (context-compaction.ts); a plain window's (no summary) pins the latest user message it cut
 * off when the tail does not open with one. A change to a summarized message (a rewind dropping
 * the compaction among them) loads again; a new compaction calls `invalidate`.
 */
export class MessageCache {
  readonly #sql: SqlPort;
  /** The prompt as loaded: the messages with an index up to `#loadedIndex`. */
  #loaded: LanguageModelV4Message[] = [];
  #loadedIndex = 0;
  #loadedBytes = 0;
  /** Messages created after the load, by id, in index order (`#put` keeps it). */
  #tail = new Map<string, { readonly index: number; readonly message: LanguageModelV4Message }>();
  readonly #sizes = new Map<string, number>();
  #tailBytes = 0;
  /** The highest index in the tail (0: empty). */
  #tailIndex = 0;
  #seenSeq = -1;
  readonly #compacted: boolean;
  /** The active compaction as loaded (compacted caches only). */
  #compaction: Compaction | undefined;
  /** A plain window's pinned user message: the latest one the compaction cut off. */
  #pinned: LanguageModelV4Message | undefined;

  constructor(sql: SqlPort, options: { readonly compacted?: boolean } = {}) {
    this.#sql = sql;
    this.#compacted = options.compacted === true;
  }

  /** The compaction the prompt starts from (loaded by the last `prompt`), if any. */
  get compaction(): Compaction | undefined {
    return this.#compaction;
  }

  /** The messages of the prompt after the system message and the summary. */
  get count(): number {
    return this.#loaded.length + this.#tail.size;
  }

  /** Drops everything: the next prompt loads again (after a new compaction). */
  invalidate(): void {
    this.#reset();
  }

  /** The converted messages' JSON size, in bytes (UTF-16 code units of their JSON). */
  get bytes(): number {
    return this.#loadedBytes + this.#tailBytes;
  }

  /** Drops the cache when it holds more than `limitBytes`; the next prompt reads it again. */
  release(limitBytes = IDLE_MESSAGE_CACHE_BYTES): void {
    if (this.bytes > limitBytes) this.#reset();
  }

  prompt(system: string, tail: number): LanguageModelV4Prompt {
    if (this.#seenSeq < 0) this.#load();
    else if (this.#seenSeq < tail) this.#refresh();
    this.#seenSeq = tail;
    const prompt: LanguageModelV4Prompt = system ? [{ role: "system", content: system }] : [];
    const summary = this.#compaction?.summary;
    if (summary) prompt.push(summaryMessage(summary));
    else if (this.#pinned && this.#firstRole() !== "user") prompt.push(this.#pinned);
    for (const message of this.#loaded) prompt.push(message);
    for (const entry of this.#tail.values()) prompt.push(entry.message);
    return prompt;
  }

  /** The role of the first message after the summary, if any. */
  #firstRole(): string | undefined {
    return (this.#loaded[0] ?? this.#tail.values().next().value?.message)?.role;
  }

  #reset(): void {
    this.#loaded = [];
    this.#loadedIndex = 0;
    this.#loadedBytes = 0;
    this.#tail.clear();
    this.#sizes.clear();
    this.#tailBytes = 0;
    this.#tailIndex = 0;
    this.#seenSeq = -1;
    this.#compaction = undefined;
    this.#pinned = undefined;
  }

  #load(): void {
    this.#reset();
    const compaction = this.#compacted ? activeCompaction(this.#sql) : undefined;
    const rows = readPrompt(this.#sql, { after: compaction?.throughIndex ?? 0 });
    this.#compaction = compaction;
    this.#loaded = rows.messages;
    this.#loadedIndex = rows.lastIndex;
    // A plain window (no summary) pins the latest user message it cut off (context-compaction.ts, invariant 4).
    this.#pinned =
      compaction && !compaction.summary
        ? latestUserPrompt(this.#sql, compaction.throughIndex)
        : undefined;
    const pinnedBytes = this.#pinned ? JSON.stringify(this.#pinned).length : 0;
    this.#loadedBytes = rows.bytes + (compaction?.summary.length ?? 0) + pinnedBytes;
  }

  #refresh(): void {
    const changed = changedMessages(this.#sql, this.#seenSeq);
    if (changed.some((message) => message.index <= this.#loadedIndex)) {
      this.#load();
      return;
    }
    for (const message of changed) {
      const converted = message.parts.length > 0 ? convert(message) : undefined;
      this.#tailBytes -= this.#sizes.get(message.id) ?? 0;
      if (converted) {
        const size = JSON.stringify(converted).length;
        this.#put(message.id, message.index, converted);
        this.#sizes.set(message.id, size);
        this.#tailBytes += size;
      } else {
        this.#tail.delete(message.id);
        this.#sizes.delete(message.id);
      }
    }
  }

  /**
   * Sets a tail message. New messages get higher indexes, so a new key goes last; one that
   * comes back after it was dropped (an emptied row refilled) may not, and re-sorts the tail.
   */
  #put(id: string, index: number, message: LanguageModelV4Message): void {
    const known = this.#tail.has(id);
    this.#tail.set(id, { index, message });
    if (known || index > this.#tailIndex) {
      this.#tailIndex = Math.max(this.#tailIndex, index);
      return;
    }
    this.#tail = new Map([...this.#tail].sort((a, b) => a[1].index - b[1].index));
  }
}

/** The prefix of a compaction's summary in the prompt (a user message, before the kept messages). */
export const SUMMARY_PREFIX = "Summary of the earlier conversation:\n\n";

/**
 * A compaction's summary as the prompt sends it: a user message, the way LangChain's
 * SummarizationMiddleware and the Claude Agent SDK's compaction place it, so that every
 * provider takes it (a second system message is refused by some, and `prepareStep` replaces
 * system messages).
 */
export function summaryMessage(summary: string): LanguageModelV4Message {
  return { role: "user", content: [{ type: "text", text: `${SUMMARY_PREFIX}${summary}` }] };
}
