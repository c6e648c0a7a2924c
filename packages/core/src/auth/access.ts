import type { SessionClaims, TokenScope } from "./session-token.ts";

/**
 * What a request wants, and a scope: one session (`agent/session`), the index (`*`),
 * or one Durable Stream (`stream:<path>`, see streamSub).
 */
export interface AccessTarget {
  readonly sub: string;
  readonly scope: TokenScope;
}

export type AccessDecision =
  | { readonly type: "allowed" }
  | { readonly type: "other_session"; readonly tokenSub: string }
  | { readonly type: "missing_scope"; readonly has: readonly TokenScope[] };

/** Subjects of Durable Streams start with this; session and index subjects never contain `:`. */
export const STREAM_SUB_PREFIX = "stream:";

/** The subject of an agent's MCP door (`/mcp/:agent`); see mcpSub. */
export const MCP_SUB_PREFIX = "mcp:";

/**
 * The subject of `/mcp/:agent`, the door in front of an agent's MCP server. A session token
 * of that agent opens it (the tool call then reaches the session routes, which check the
 * session the token names and the start command's scope).
 */
export function mcpSub(agent: string): string {
  return `${MCP_SUB_PREFIX}${agent}`;
}

/** The subject of a request to an agent that names no session yet; see agentSub. */
export const AGENT_SUB_PREFIX = "agent:";

/**
 * The subject of a request to an agent that names no valid session (a `POST /chat/:agent` body
 * that is not JSON, has no chat id or is past its limit; a chat id or path id that is not a
 * session id): the door asks the rule about the agent before saying what is wrong. A session
 * token of that agent opens it, as it opens `mcp:<agent>`.
 */
export function agentSub(agent: string): string {
  return `${AGENT_SUB_PREFIX}${agent}`;
}

/** The subject of the stream at `/v1/stream/<path>` (path as routed: stream-root-relative). */
export function streamSub(path: string): string {
  return `${STREAM_SUB_PREFIX}${path}`;
}

/**
 * Cross-resource access is denied: a token opens only the session or stream it names, or,
 * for a stream-prefix token (`prefix: true`), the streams under that prefix.
 */
export function decideAccess(claims: SessionClaims, target: AccessTarget): AccessDecision {
  if (!covers(claims, target.sub)) return { type: "other_session", tokenSub: claims.sub };
  if (!claims.scope.includes(target.scope)) return { type: "missing_scope", has: claims.scope };
  return { type: "allowed" };
}

/**
 * Exact subject, or a stream prefix on path-segment boundaries: prefix `chat` covers `chat`
 * and `chat/a/b` but not `chatroom`; the empty prefix covers every stream (and `__ds`).
 * A prefix claim on anything but a stream subject covers nothing. An agent's door subject
 * (`mcp:<agent>`, `agent:<agent>`) is covered by a session token of that agent.
 */
function covers(claims: SessionClaims, sub: string): boolean {
  for (const door of [MCP_SUB_PREFIX, AGENT_SUB_PREFIX])
    if (sub.startsWith(door))
      return claims.prefix !== true && claims.sub.startsWith(`${sub.slice(door.length)}/`);
  if (claims.prefix !== true) return claims.sub === sub;
  if (!claims.sub.startsWith(STREAM_SUB_PREFIX) || !sub.startsWith(STREAM_SUB_PREFIX)) return false;
  const prefix = claims.sub.slice(STREAM_SUB_PREFIX.length);
  const path = sub.slice(STREAM_SUB_PREFIX.length);
  if (prefix === "" || path === prefix) return true;
  return path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`);
}

/** GET and HEAD read; everything else writes. */
export function scopeOf(method: string): TokenScope {
  return method === "GET" || method === "HEAD" ? "read" : "write";
}
