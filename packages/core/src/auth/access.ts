import type { SessionClaims, TokenScope } from "./session-token.ts";

/** What a request wants: one session (by `agent/session`) or the index (`*`), and a scope. */
export interface AccessTarget {
  readonly sub: string;
  readonly scope: TokenScope;
}

export type AccessDecision =
  | { readonly type: "allowed" }
  | { readonly type: "other_session"; readonly tokenSub: string }
  | { readonly type: "missing_scope"; readonly has: readonly TokenScope[] };

/** Cross-session access is denied: a token opens only the session it names. */
export function decideAccess(claims: SessionClaims, target: AccessTarget): AccessDecision {
  if (claims.sub !== target.sub) return { type: "other_session", tokenSub: claims.sub };
  if (!claims.scope.includes(target.scope)) return { type: "missing_scope", has: claims.scope };
  return { type: "allowed" };
}

/** GET and HEAD read; everything else writes. */
export function scopeOf(method: string): TokenScope {
  return method === "GET" || method === "HEAD" ? "read" : "write";
}
