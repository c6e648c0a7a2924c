import { useEffect, useMemo, useSyncExternalStore } from "react";
import { AgentChat, type AgentChatOptions, type AgentChatSnapshot } from "../agent-chat.ts";

export interface AgentChatState extends AgentChatSnapshot {
  /** The AI SDK's sendMessage: `sendMessage({ text })`. */
  readonly sendMessage: AgentChat["sendMessage"];
  /** Stops the answer on the server (a soft interrupt; the partial answer is kept). */
  readonly stop: () => Promise<void>;
  /** Answers the last turn again; the server's history follows the client's. */
  readonly regenerate: AgentChat["regenerate"];
  /** Approves or denies a tool call; sent once every waiting call is answered. */
  readonly addToolApprovalResponse: AgentChat["approve"];
  /** A client-side tool's output; sent once every waiting call is answered. */
  readonly addToolOutput: AgentChat["answerTool"];
  readonly chat: AgentChat;
}

/**
 * useChat's shape for a durable-agents session: the AI SDK's `UIMessage` list, `status`,
 * `sendMessage`, `stop`, `regenerate`, `addToolApprovalResponse`. It loads the conversation
 * from the server and, after a reload, picks up an answer still being written.
 *
 * @example
 * const { messages, status, sendMessage, stop } = useAgentChat({ agent: "assistant", id });
 */
export function useAgentChat(options: AgentChatOptions): AgentChatState {
  const { agent, id, baseUrl, headers } = options;
  // biome-ignore lint/correctness/useExhaustiveDependencies: headers are read once per chat
  const chat = useMemo(() => new AgentChat({ agent, id, baseUrl, headers }), [agent, id, baseUrl]);
  useEffect(() => {
    void chat.load().catch((error: unknown) => {
      chat.store.error = error instanceof Error ? error : new Error(String(error));
    });
    return () => void chat.stop();
  }, [chat]);
  const snapshot = useSyncExternalStore(chat.store.subscribe, chat.store.getSnapshot);
  return {
    ...snapshot,
    sendMessage: chat.sendMessage,
    stop: chat.stopRun,
    regenerate: chat.regenerate,
    addToolApprovalResponse: chat.approve,
    addToolOutput: chat.answerTool,
    chat,
  };
}
