export {
  type AccessDecision,
  type AccessTarget,
  AGENT_SUB_PREFIX,
  agentSub,
  decideAccess,
  MCP_SUB_PREFIX,
  mcpSub,
  STREAM_SUB_PREFIX,
  scopeOf,
  streamSub,
} from "./access.ts";
export { ForbiddenError, UnauthorizedError } from "./auth-errors.ts";
export {
  type MintOptions,
  mintIndexToken,
  mintSessionToken,
  mintStreamToken,
  type SessionClaims,
  type StreamTokenOptions,
  signClaims,
  TOKEN_SCOPES,
  type TokenScope,
  type VerifyResult,
  verifySessionToken,
} from "./session-token.ts";
