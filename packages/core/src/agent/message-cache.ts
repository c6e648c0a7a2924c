import type { LanguageModelV4Message, LanguageModelV4Prompt } from "@ai-sdk/provider";
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
 * the whole history on every step. Loaded once, then refreshed with only the
 * rows changed since the last seq it saw. Messages are kept already converted
 * to the provider prompt format, so a step converts only what changed. Between
 * runs it is kept only up to IDLE_MESSAGE_CACHE_BYTES (`release`): a larger
 * conversation is read and converted again at the next run's first step, once
 * per run (its prompt is sent whole on every step anyway).
 */
export class MessageCache {
  readonly #sql: SqlPort;
  readonly #byId = new Map<string, LanguageModelV4Message>();
  readonly #sizes = new Map<string, number>();
  #bytes = 0;
  #seenSeq = -1;

  constructor(sql: SqlPort) {
    this.#sql = sql;
  }

  /** The converted messages' JSON size, in bytes (UTF-16 code units of their JSON). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Drops the cache when it holds more than `limitBytes`; the next prompt rebuilds it. */
  release(limitBytes = IDLE_MESSAGE_CACHE_BYTES): void {
    if (this.#bytes <= limitBytes) return;
    this.#byId.clear();
    this.#sizes.clear();
    this.#bytes = 0;
    this.#seenSeq = -1;
  }

  prompt(system: string, tail: number): LanguageModelV4Prompt {
    if (this.#seenSeq < tail) {
      for (const message of changedMessages(this.#sql, Math.max(this.#seenSeq, 0))) {
        const converted = message.parts.length > 0 ? convert(message) : undefined;
        this.#bytes -= this.#sizes.get(message.id) ?? 0;
        if (converted) {
          const size = JSON.stringify(converted).length;
          this.#byId.set(message.id, converted);
          this.#sizes.set(message.id, size);
          this.#bytes += size;
        } else {
          this.#byId.delete(message.id);
          this.#sizes.delete(message.id);
        }
      }
      this.#seenSeq = tail;
    }
    // Map order is insertion order; new messages always get higher indexes.
    const prompt: LanguageModelV4Prompt = system ? [{ role: "system", content: system }] : [];
    for (const message of this.#byId.values()) prompt.push(message);
    return prompt;
  }
}
