export type { SessionSnapshot } from "../session-store.ts";
export type { PendingApproval, ViewMessage, ViewPart } from "../session-view.ts";
export {
  type AgentSessionState,
  type UseAgentSessionOptions,
  useAgentSession,
} from "./use-agent-session.ts";
