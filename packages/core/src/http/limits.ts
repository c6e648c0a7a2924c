import { MAX_EVENT_BYTES } from "../ledger/ledger.ts";

/** Size limits, documented in docs/limits.md. Exceeding one is a 413 or a tool error, never a corrupt row. */
export const LIMITS = {
  /** Largest request body on session routes. */
  maxBodyBytes: 64 * 1024,
  /** Longest user message, in characters. */
  maxMessageChars: 32 * 1024,
  /** Largest tool result, in bytes of JSON. */
  maxToolResultBytes: 256 * 1024,
  /** Largest ledger event payload, in bytes of JSON. */
  maxEventBytes: MAX_EVENT_BYTES,
  /** Most events in one JSON read of the ledger. */
  maxReadEvents: 1000,
  /** Most messages in one page of GET .../messages. */
  maxMessagesPage: 200,
} as const;
