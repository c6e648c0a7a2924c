import type { LanguageModelV4Prompt } from "@ai-sdk/provider";
import { changedMessages, type Message } from "../ledger/projections/messages.ts";
import type { SqlPort } from "../sql/port.ts";
import { buildPrompt } from "./prompt.ts";

/**
 * The conversation kept in memory, so that building a prompt does not re-read
 * the whole history on every step. Loaded once per object lifetime, then
 * refreshed with only the rows changed since the last seq it saw.
 */
export class MessageCache {
  readonly #sql: SqlPort;
  readonly #byId = new Map<string, Message>();
  #seenSeq = -1;

  constructor(sql: SqlPort) {
    this.#sql = sql;
  }

  prompt(system: string, tail: number): LanguageModelV4Prompt {
    if (this.#seenSeq < tail) {
      for (const message of changedMessages(this.#sql, Math.max(this.#seenSeq, 0))) {
        if (message.parts.length === 0) this.#byId.delete(message.id);
        else this.#byId.set(message.id, message);
      }
      this.#seenSeq = tail;
    }
    // Map order is insertion order; new messages always get higher indexes.
    return buildPrompt(system, [...this.#byId.values()]);
  }
}
