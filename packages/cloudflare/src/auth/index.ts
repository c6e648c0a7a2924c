export {
  type AuthDecision,
  type AuthIdentity,
  type AuthOutcome,
  type Authorize,
  type AuthTarget,
  allowLocalDev,
  authorizeRequest,
  type LocalDevOptions,
  verifyRequestToken,
} from "./authorize.ts";
export {
  AuthNotConfiguredError,
  DEV_AUTH_SECRET,
  HostNotLocalError,
  isLoopback,
  MIN_SECRET_CHARS,
  OriginNotAllowedError,
  resolveSecret,
} from "./secret.ts";
