import type { LanguageModelV4Message, LanguageModelV4Prompt } from "@ai-sdk/provider";
import { activeCompaction, type Compaction } from "../ledger/projections/compactions.ts";
import { latestUserPrompt, readPrompt } from "../ledger/projections/message-prompts.ts";
import { changedMessages } from "../ledger/projections/message-reads.ts";
import type { SqlPort } from "../sql/port.ts";
import {
  type IdleCache,
  type IdlePromptCaches,
  isolateIdlePromptCaches,
} from "./idle-prompt-caches.ts";
import { convert } from "./prompt.ts";

/**
 * The conversation kept in memory, so that building a prompt does not re-read
 * the whole history on every step. Loaded in one statement of the messages' stored
 * provider-format JSON (`readPrompt`: no message is read or converted one by one), then
 * refreshed with only the rows changed since the last seq it saw: a change to a message
 * newer than the load is converted into the tail; a change to an older one (a regenerated
 * turn, a checkpoint rewind hiding it) loads the whole prompt again, which is that same one
 * statement. While no step of a run will run soon (between runs, waiting, waiting out a
 * retry) it is kept in the isolate's budget of idle prompt caches, least recently used dropped
 * first (`release`, as RunDriver decides; idle-prompt-caches.ts); a dropped cache loads again
 * at its next prompt.
 *
 * With `compacted` (the agent has a `context` option), it holds the prompt from the active
 * compaction on: its summary, then only the messages after its `throughIndex`, read as a range
 * (context-compaction.ts); a plain window's (no summary) pins the latest user message it cut
 * off when the tail does not open with one. A change to a summarized message (a rewind dropping
 * the compaction among them) loads again; a new compaction calls `invalidate`.
 */
export class MessageCache {
  readonly #sql: SqlPort;
  readonly #compacted: boolean;
  readonly #idle: IdlePromptCaches;
  /** What the budget holds and may drop while the cache is idle: never the SQL port. */
  readonly #s = new PromptState();

  constructor(
    sql: SqlPort,
    options: { readonly compacted?: boolean; readonly idle?: IdlePromptCaches } = {},
  ) {
    this.#sql = sql;
    this.#compacted = options.compacted === true;
    this.#idle = options.idle ?? isolateIdlePromptCaches;
  }

  /** The compaction the prompt starts from (loaded by the last `prompt`), if any. */
  get compaction(): Compaction | undefined {
    return this.#s.compaction;
  }

  /** The messages of the prompt after the system message and the summary. */
  get count(): number {
    return this.#s.loaded.length + this.#s.tail.size;
  }

  /** Drops everything: the next prompt loads again (after a new compaction). */
  invalidate(): void {
    this.#idle.use(this.#s);
    this.#s.drop();
  }

  /** The converted messages' JSON size, in bytes (UTF-16 code units of their JSON). */
  get bytes(): number {
    return this.#s.bytes;
  }

  /**
   * No step of the run will run soon (RunDriver decides): the cache becomes idle, kept in the
   * isolate's budget until it is used again or dropped for more recently used ones (or at once,
   * when it alone is over the budget).
   */
  release(): void {
    this.#idle.keep(this.#s);
  }

  prompt(system: string, tail: number): LanguageModelV4Prompt {
    const s = this.#s;
    this.#idle.use(s);
    if (s.seenSeq < 0) this.#load();
    else if (s.seenSeq < tail) this.#refresh();
    s.seenSeq = tail;
    const head: LanguageModelV4Message[] = system ? [{ role: "system", content: system }] : [];
    const summary = s.compaction?.summary;
    if (summary) head.push(summaryMessage(summary));
    else if (s.pinned && s.firstRole() !== "user") head.push(s.pinned);
    const newer: LanguageModelV4Message[] = [];
    for (const entry of s.tail.values()) newer.push(entry.message);
    // One copy of the loaded messages (concat copies an array's elements at once), not a push each.
    return head.concat(s.loaded, newer);
  }

  #load(): void {
    const s = this.#s;
    s.drop();
    const compaction = this.#compacted ? activeCompaction(this.#sql) : undefined;
    const rows = readPrompt(this.#sql, { after: compaction?.throughIndex ?? 0 });
    s.compaction = compaction;
    s.loaded = rows.messages;
    s.loadedIndex = rows.lastIndex;
    // A plain window (no summary) pins the latest user message it cut off (context-compaction.ts, invariant 4).
    s.pinned =
      compaction && !compaction.summary
        ? latestUserPrompt(this.#sql, compaction.throughIndex)
        : undefined;
    const pinnedBytes = s.pinned ? JSON.stringify(s.pinned).length : 0;
    s.loadedBytes = rows.bytes + (compaction?.summary.length ?? 0) + pinnedBytes;
  }

  #refresh(): void {
    const s = this.#s;
    const changed = changedMessages(this.#sql, s.seenSeq);
    if (changed.some((message) => message.index <= s.loadedIndex)) {
      this.#load();
      return;
    }
    for (const message of changed) {
      const converted = message.parts.length > 0 ? convert(message) : undefined;
      s.tailBytes -= s.sizes.get(message.id) ?? 0;
      if (converted) {
        const size = JSON.stringify(converted).length;
        s.put(message.id, message.index, converted);
        s.sizes.set(message.id, size);
        s.tailBytes += size;
      } else {
        s.tail.delete(message.id);
        s.sizes.delete(message.id);
      }
    }
  }
}

/** A cache's prompt as loaded and refreshed: what `IdlePromptCaches` drops (`drop`). */
class PromptState implements IdleCache {
  /** The prompt as loaded: the messages with an index up to `loadedIndex`. */
  loaded: LanguageModelV4Message[] = [];
  loadedIndex = 0;
  loadedBytes = 0;
  /** Messages created after the load, by id, in index order (`put` keeps it). */
  tail = new Map<string, { readonly index: number; readonly message: LanguageModelV4Message }>();
  readonly sizes = new Map<string, number>();
  tailBytes = 0;
  /** The highest index in the tail (0: empty). */
  tailIndex = 0;
  /** The ledger tail the prompt was last built at; -1: nothing loaded. */
  seenSeq = -1;
  /** The active compaction as loaded (compacted caches only). */
  compaction: Compaction | undefined;
  /** A plain window's pinned user message: the latest one the compaction cut off. */
  pinned: LanguageModelV4Message | undefined;

  get bytes(): number {
    return this.loadedBytes + this.tailBytes;
  }

  drop(): void {
    this.loaded = [];
    this.loadedIndex = 0;
    this.loadedBytes = 0;
    this.tail.clear();
    this.sizes.clear();
    this.tailBytes = 0;
    this.tailIndex = 0;
    this.seenSeq = -1;
    this.compaction = undefined;
    this.pinned = undefined;
  }

  /** The role of the first message after the summary, if any. */
  firstRole(): string | undefined {
    return (this.loaded[0] ?? this.tail.values().next().value?.message)?.role;
  }

  /**
   * Sets a tail message. New messages get higher indexes, so a new key goes last; one that
   * comes back after it was dropped (an emptied row refilled) may not, and re-sorts the tail.
   */
  put(id: string, index: number, message: LanguageModelV4Message): void {
    const known = this.tail.has(id);
    this.tail.set(id, { index, message });
    if (known || index > this.tailIndex) {
      this.tailIndex = Math.max(this.tailIndex, index);
      return;
    }
    this.tail = new Map([...this.tail].sort((a, b) => a[1].index - b[1].index));
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
