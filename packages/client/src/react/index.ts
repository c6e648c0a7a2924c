export type { AgentChatOptions, AgentChatSnapshot } from "../agent-chat.ts";
export type { SessionSnapshot } from "../session-store.ts";
export type { PendingApproval, ViewMessage, ViewPart } from "../session-view.ts";
export { type AgentChatState, useAgentChat } from "./use-agent-chat.ts";
export {
  type AgentSessionState,
  type UseAgentSessionOptions,
  useAgentSession,
} from "./use-agent-session.ts";
