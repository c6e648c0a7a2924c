import { ForbiddenError, UnauthorizedError } from "../auth/auth-errors.ts";
import { TOKEN_SCOPES, type TokenScope } from "../auth/session-token.ts";

/** Who sent a command: the identity the auth layer found, its scopes, and when they end. */
export interface Caller {
  /** From the token's claims or the app's `authorize` hook; mirrored to the D1 index. */
  readonly identity: { readonly user?: string; readonly tags?: readonly string[] };
  /** The scopes the caller holds for this session (a token's `scope`). */
  readonly scopes: readonly TokenScope[];
  /** Epoch ms after which the caller may send no more commands (a token's `exp`); none if absent. */
  readonly expiresAt?: number;
}

/**
 * A caller holding every scope, with no expiry: for code that has authorized the
 * request itself (tests, an app embedding the session handler behind its own auth).
 */
export const TRUSTED_CALLER: Caller = { identity: {}, scopes: TOKEN_SCOPES };

/**
 * Whether `caller` may run a command that needs `scope` at `now` (epoch ms).
 * Throws 401 `token_expired` or 403 `missing_scope`: the same errors the HTTP
 * token check gives, so every transport refuses alike.
 */
export function checkCaller(caller: Caller, scope: TokenScope, now: number): void {
  if (caller.expiresAt !== undefined && now >= caller.expiresAt)
    throw expiredError(caller.expiresAt);
  if (!caller.scopes.includes(scope)) throw missingScopeError(scope, caller.scopes);
}

/** 401 `token_expired`. */
export function expiredError(expiredAt: number): UnauthorizedError {
  return new UnauthorizedError(
    "token_expired",
    `the session token expired at ${new Date(expiredAt).toISOString()}; mint a new one (a WebSocket must reconnect with it)`,
    { details: { expiredAt } },
  );
}

/** 403 `missing_scope`. */
export function missingScopeError(needed: TokenScope, has: readonly TokenScope[]): ForbiddenError {
  return new ForbiddenError(
    "missing_scope",
    `this request needs the "${needed}" scope; the token has: ${has.join(", ") || "(none)"}`,
    { details: { needed, has } },
  );
}

/**
 * 403 `wrong_session` for a command that writes `target` (`agent/session`, a fork's), another
 * session than the caller's `source`, when the caller may not write it; `why` says what its
 * authority covers. `details`: `{ source, target }`.
 */
export function otherSessionError(source: string, target: string, why: string): ForbiddenError {
  return new ForbiddenError(
    "wrong_session",
    `a fork writes the session it names, "${target}", and ${why}; fork into a new session the server names (leave out "session"), or send the fork over HTTP with credentials that may write "${target}" too (an authorize rule that allows it; a session token names one session, so none covers both)`,
    { details: { source, target } },
  );
}
