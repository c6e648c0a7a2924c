// @durable-agents/cloudflare: the only package that imports cloudflare:workers.
export {
  type AgentServerClass,
  type AgentServerOptions,
  createAgentServer,
} from "./agent-object/create-agent-server.ts";
export type {
  EndpointContext,
  PlatformOptions,
  SessionEndpoint,
} from "./agent-object/platform.ts";
export { AgentNotFoundError, AgentRegistry } from "./agent-object/registry.ts";
export {
  parseSessionPath,
  type SessionPath,
  sessionObjectName,
} from "./agent-object/session-path.ts";
export { BindingMissingError } from "./agent-object/session-peers.ts";
export {
  type AuthDecision,
  type AuthIdentity,
  AuthNotConfiguredError,
  type Authorize,
  type AuthTarget,
  allowLocalDev,
  DEV_AUTH_SECRET,
  HostNotLocalError,
  isLoopback,
  type LocalDevOptions,
  OriginNotAllowedError,
  verifyRequestToken,
} from "./auth/index.ts";
export type { SessionIndex } from "./d1/index-port.ts";
export {
  type AcquireOptions,
  type AcquireResult,
  type Lease,
  LockHeldError,
  type LockInfo,
  LockManager,
  LockObject,
  StaleFencingTokenError,
} from "./lock-object/index.ts";
export { type RouterEnv, type RouterOptions, routeRequest } from "./router.ts";
export {
  type AgentRef,
  type AgentRuns,
  type AgentRunsOptions,
  agentRuns,
  type ExecuteOptions,
  type RetryOptions,
  type RunHandle,
  type RunResult,
  type RunState,
  type StreamOptions,
} from "./runs/index.ts";
export { doSqlPort } from "./sql/do-sql-port.ts";
export {
  type AgentStore,
  createStore,
  type DeletedEntries,
  type SessionId,
  type SessionStore,
  type StoreOptions,
  type StoreReply,
  type StoreStub,
} from "./store/index.ts";
export {
  DurableStreamObject,
  routeStreamRequest,
  STREAM_ROOT,
  type StreamObjectEnv,
  type StreamRouteOptions,
  type StreamVars,
  streamConfigFromVars,
} from "./stream-object/index.ts";
export {
  type AgentWorkflowCall,
  type AgentWorkflowClass,
  type AgentWorkflowOptions,
  type AgentWorkflowReply,
  type AgentWorkflowStub,
  createAgentWorkflow,
  createToolWorkflow,
  type ToolWorkflowClass,
  type ToolWorkflowOptions,
  WorkflowToolContextError,
} from "./workflows/index.ts";
