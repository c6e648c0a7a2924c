/**
 * `GET .../chat-history`, requested once for `session.chatHistory()` and for `/chat`'s
 * `loadChatHistory` (which rebuilds the answers with the AI SDK). No runtime import of `ai`:
 * this module is in the main entry, where `ai` is an optional peer (a bundler refuses even a
 * lazy `import("ai")` it cannot resolve), so the rebuild lives in agent-chat.ts.
 */
import type { ChatHistoryPage } from "@durable-agents/core/types";
import { type HttpContext, requestJson } from "./http.ts";

/** Which page of the conversation: the newest `limit` turns before `before`. */
export interface ChatHistoryQuery {
  /** Turns (a run with the user messages that started it, and its answer), 1-100. */
  readonly limit?: number | undefined;
  /** A `prevCursor` of a newer page, or `"end"`; default: the newest turns. */
  readonly before?: string | undefined;
}

/**
 * One page of `GET <sessionPath>/chat-history`. Throws `DurableAgentsClientError` with the
 * server's code on a non-2xx answer (`invalid_request` 400 for a bad `limit` or `before`,
 * `missing_scope` 403), and the signal's reason on an abort.
 */
export function readChatHistoryPage(
  ctx: HttpContext,
  sessionPath: string,
  query: ChatHistoryQuery,
  signal?: AbortSignal,
): Promise<ChatHistoryPage> {
  return requestJson<ChatHistoryPage>(ctx, `${sessionPath}/chat-history`, {
    query: { limit: query.limit, before: query.before },
    signal,
  });
}
