import { MAX_EVENT_BYTES } from "../ledger/ledger.ts";

/** Size limits, documented in docs/limits.md. Exceeding one is a 413 or a tool error, never a corrupt row. */
export const LIMITS = {
  /** Largest request body on session routes. */
  maxBodyBytes: 64 * 1024,
  /** Largest body of `PUT .../state`: room for a state at the event limit, formatted. */
  maxStateBodyBytes: 2 * MAX_EVENT_BYTES,
  /** Largest body of `POST .../runs`: a user message with files (agent/user-files.ts), within one ledger event. */
  maxStartBodyBytes: MAX_EVENT_BYTES,
  /** Deepest nesting of arrays and objects in a JSON request body (session routes, stream appends, `__ds`). */
  maxJsonDepth: 64,
  /**
   * Largest request of a client that sends the whole conversation each time: useChat's
   * (`POST /chat/:agent`, `POST .../ui-stream`) and AG-UI's `HttpAgent` (`POST .../agui`).
   */
  maxChatBodyBytes: 4 * 1024 * 1024,
  /** Longest user message, in characters. */
  maxMessageChars: 32 * 1024,
  /** Most messages a start or a resume may hand in (`messages`), each at most maxMessageChars. */
  maxPriorMessages: 200,
  /** Most keys of a start's `metadata`. */
  maxMetadataKeys: 64,
  /** Largest tool result, in bytes of JSON. */
  maxToolResultBytes: 256 * 1024,
  /** Largest ledger event payload, in bytes of JSON. */
  maxEventBytes: MAX_EVENT_BYTES,
  /** Most events in one JSON read of the ledger. */
  maxReadEvents: 1000,
  /** Most messages in an AG-UI MESSAGES_SNAPSHOT: the newest ones as of the event that opens the AG-UI run. */
  maxSnapshotMessages: 1000,
  /** Most messages in one page of GET .../messages. */
  maxMessagesPage: 200,
  /** Most turns (runs with their user messages and answer) in one page of GET .../chat-history. */
  maxChatHistoryTurns: 100,
  /**
   * Most bytes of JSON in one page of GET .../chat-history, the size of the chat request a
   * client sends the conversation back in (maxChatBodyBytes): a page holds the newest turns
   * that fit, and always one (a turn is never cut), with a prevCursor for the rest.
   */
  maxChatHistoryBytes: 4 * 1024 * 1024,
} as const;

/** The body limit of a session action: the state can be as large as an event, the rest is small. */
export function bodyLimit(action: string): number {
  if (action === "chat" || action === "ui-stream" || action === "agui")
    return LIMITS.maxChatBodyBytes;
  if (action === "runs") return LIMITS.maxStartBodyBytes;
  return action === "state" ? LIMITS.maxStateBodyBytes : LIMITS.maxBodyBytes;
}
