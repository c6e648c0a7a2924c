export { type Backoff, createBackoff, type RetryInfo, type RetryPolicy } from "./backoff.ts";
export type { ChatHistoryQuery } from "./chat-history.ts";
export {
  type ClientOptions,
  createClient,
  DEFAULT_BASE_URL,
  type DurableAgentsClient,
} from "./client.ts";
export { DurableAgentsClientError, StateVersionConflictError } from "./errors.ts";
export type {
  EventStream,
  EventsOptions,
  EventsTransport,
  StreamPosition,
} from "./event-stream.ts";
export {
  type FollowRunOptions,
  followRun,
  isRunEnd,
  type RunEndEvent,
  waitForRun,
} from "./follow-run.ts";
export type { WebSocketConstructor, WebSocketLike } from "./http.ts";
export type { LiveSession } from "./live-session.ts";
export { AgentSession, type CallOptions, type StartOptions } from "./session.ts";
export {
  createSessionStore,
  type SessionSnapshot,
  type SessionStore,
  type SessionStoreOptions,
} from "./session-store.ts";
export {
  EMPTY_VIEW,
  type PendingApproval,
  reduceView,
  type SessionView,
  type ViewMessage,
  type ViewPart,
} from "./session-view.ts";
export type { SocketOptions } from "./socket-session.ts";
export { readSse, type SseMessage, SseParser } from "./sse-parser.ts";
export {
  type Approval,
  type ChatHistoryPage,
  type ChatTurn,
  type ForkResponse,
  isKnownEvent,
  isTerminalEvent,
  type LedgerEvent,
  type LedgerEventData,
  type LedgerEventKind,
  type Message,
  type MessagePart,
  type MessagesPage,
  type ResumeRequest,
  type RetryMode,
  type RunControlResponse,
  type RunStarted,
  type SessionStatus,
  type SetStateResponse,
  type StartFields,
  type StateResponse,
  type StatusResponse,
  type TerminalEventKind,
  type ToolCall,
  type WireError,
} from "./types.ts";
