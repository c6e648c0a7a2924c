export { type AccessDecision, type AccessTarget, decideAccess, scopeOf } from "./access.ts";
export { ForbiddenError, UnauthorizedError } from "./auth-errors.ts";
export {
  type MintOptions,
  mintIndexToken,
  mintSessionToken,
  type SessionClaims,
  signClaims,
  TOKEN_SCOPES,
  type TokenScope,
  type VerifyResult,
  verifySessionToken,
} from "./session-token.ts";
