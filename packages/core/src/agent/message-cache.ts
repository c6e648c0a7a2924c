import type { LanguageModelV4Message, LanguageModelV4Prompt } from "@ai-sdk/provider";
import { changedMessages } from "../ledger/projections/messages.ts";
import type { SqlPort } from "../sql/port.ts";
import { convert } from "./prompt.ts";

/**
 * The conversation kept in memory, so that building a prompt does not re-read
 * the whole history on every step. Loaded once per object lifetime, then
 * refreshed with only the rows changed since the last seq it saw. Messages are
 * kept already converted to the provider prompt format, so a step converts only
 * what changed.
 */
export class MessageCache {
  readonly #sql: SqlPort;
  readonly #byId = new Map<string, LanguageModelV4Message>();
  #seenSeq = -1;

  constructor(sql: SqlPort) {
    this.#sql = sql;
  }

  prompt(system: string, tail: number): LanguageModelV4Prompt {
    if (this.#seenSeq < tail) {
      for (const message of changedMessages(this.#sql, Math.max(this.#seenSeq, 0))) {
        const converted = message.parts.length > 0 ? convert(message) : undefined;
        if (converted) this.#byId.set(message.id, converted);
        else this.#byId.delete(message.id);
      }
      this.#seenSeq = tail;
    }
    // Map order is insertion order; new messages always get higher indexes.
    const prompt: LanguageModelV4Prompt = system ? [{ role: "system", content: system }] : [];
    for (const message of this.#byId.values()) prompt.push(message);
    return prompt;
  }
}
