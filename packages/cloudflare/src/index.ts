// @durable-agents/cloudflare: the only package that imports cloudflare:workers.
export { type AgentServerOptions, createAgentServer } from "./agent-object/create-agent-server.ts";
export { AgentNotFoundError, AgentRegistry } from "./agent-object/registry.ts";
export {
  parseSessionPath,
  type SessionPath,
  sessionObjectName,
} from "./agent-object/session-path.ts";
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
export { type RouterEnv, routeRequest } from "./router.ts";
export { doSqlPort } from "./sql/do-sql-port.ts";
