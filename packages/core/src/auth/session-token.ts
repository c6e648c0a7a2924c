import { TerminalError } from "../errors/base.ts";
import { streamSub } from "./access.ts";
import { fromBase64Url, toBase64Url } from "./base64url.ts";
import { hmacSign, hmacVerify } from "./hmac.ts";

/**
 * Signed session tokens: `da1.<claims>.<signature>`, both parts base64url, the
 * signature an HMAC-SHA256 over `da1.<claims>` with the app's secret.
 *
 * Invariants:
 * 1. A token names exactly one session (`agent/session`), `*` for the
 *    cross-session index routes (which need the `admin` scope), or Durable Streams:
 *    one stream (`stream:<path>`) or, with `prefix: true`, the streams under a prefix.
 * 2. Verification is constant-time in the signature (`crypto.subtle.verify`)
 *    and checks the expiry against the caller's clock, never a default one.
 * 3. Pure: Web Crypto only; minting is the app's job (a route, a login flow).
 */
export type TokenScope = "read" | "write" | "admin";

export const TOKEN_SCOPES: readonly TokenScope[] = ["read", "write", "admin"];

export interface SessionClaims {
  /** `agent/session`, `*` for an index token, or `stream:<path>` for Durable Streams. */
  readonly sub: string;
  /** `sub` is a stream prefix (`stream:<prefix>`), not one stream; see decideAccess. */
  readonly prefix?: true;
  readonly scope: readonly TokenScope[];
  /** Expiry, in seconds since the epoch. */
  readonly exp: number;
  /** The end user, recorded in the cross-session index. */
  readonly user?: string;
  /** Labels recorded in the cross-session index. */
  readonly tags?: readonly string[];
}

export interface MintOptions {
  readonly agent: string;
  readonly session: string;
  /** Defaults to read and write. */
  readonly scope?: readonly TokenScope[];
  /** Lifetime in seconds; defaults to one hour. */
  readonly ttlSeconds?: number;
  readonly user?: string;
  readonly tags?: readonly string[];
  /** Milliseconds since the epoch; defaults to Date.now(). */
  readonly now?: number;
}

export type VerifyResult =
  | { readonly type: "valid"; readonly claims: SessionClaims }
  | { readonly type: "malformed" }
  | { readonly type: "bad_signature" }
  | { readonly type: "expired"; readonly expiredAt: number };

const PREFIX = "da1";
const encoder = new TextEncoder();

/**
 * Mints a session token. Call it in your own login route; never ship the secret to a browser.
 * @example
 * const token = await mintSessionToken(env.AUTH_SECRET, { agent: "assistant", session: "demo" });
 * fetch("/agents/assistant/demo/status", { headers: { authorization: `Bearer ${token}` } });
 */
export async function mintSessionToken(secret: string, options: MintOptions): Promise<string> {
  const sub = `${options.agent}/${options.session}`;
  return signClaims(secret, claimsFor(sub, options));
}

/** Mints a token for the cross-session routes (`GET /sessions`, `GET /usage`): scope admin. */
export async function mintIndexToken(
  secret: string,
  options: { ttlSeconds?: number; now?: number } = {},
): Promise<string> {
  return signClaims(secret, claimsFor("*", { ...options, scope: ["admin"] }));
}

/** Which Durable Streams a stream token opens: exactly one of `stream` and `prefix`. */
export type StreamTokenOptions = Omit<MintOptions, "agent" | "session" | "tags"> &
  (
    | { readonly stream: string; readonly prefix?: undefined }
    | { readonly prefix: string; readonly stream?: undefined }
  );

/**
 * Mints a token for `/v1/stream/*`: one stream (`stream: "chat/room-1"`, the path after
 * `/v1/stream/`) or every stream under a prefix (`prefix: "chat"` opens `chat/…`; `""` opens
 * all, including the `__ds` subscription routes). Scope read (GET, HEAD) and/or write.
 * @example
 * const token = await mintStreamToken(env.AUTH_SECRET, { prefix: "chat", scope: ["read"] });
 * fetch(`/v1/stream/chat/room-1?offset=-1`, { headers: { authorization: `Bearer ${token}` } });
 */
export async function mintStreamToken(
  secret: string,
  options: StreamTokenOptions,
): Promise<string> {
  const path = options.stream ?? options.prefix;
  const claims = claimsFor(streamSub(path), options);
  return signClaims(secret, options.prefix === undefined ? claims : { ...claims, prefix: true });
}

/**
 * Signs raw claims with `secret`. Every mint comes through here.
 * @throws TerminalError `auth_not_configured` (500) when `secret` is not a non-empty string
 * (an unset `AUTH_SECRET` reads as undefined), rather than Web Crypto's zero-length key error.
 */
export async function signClaims(secret: string, claims: SessionClaims): Promise<string> {
  if (typeof secret !== "string" || secret === "")
    throw new TerminalError(
      "auth_not_configured",
      `minting a token needs the server's AUTH_SECRET, and the secret given is ${secret === "" ? "an empty string" : String(typeof secret)}: pass the secret the Worker runs with (env.AUTH_SECRET in Worker code; in a shell, export AUTH_SECRET=... first)`,
    );
  const body = `${PREFIX}.${toBase64Url(encoder.encode(JSON.stringify(claims)))}`;
  return `${body}.${await hmacSign(secret, body)}`;
}

/** Checks the signature, then the expiry against `nowMs`. */
export async function verifySessionToken(
  secret: string,
  token: string,
  nowMs: number,
): Promise<VerifyResult> {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== PREFIX || token.length > 4096)
    return { type: "malformed" };
  const [, payload = "", signature = ""] = parts;
  const signatureBytes = fromBase64Url(signature);
  const payloadBytes = fromBase64Url(payload);
  if (!signatureBytes || !payloadBytes) return { type: "malformed" };
  const ok = await hmacVerify(secret, signatureBytes, `${PREFIX}.${payload}`);
  if (!ok) return { type: "bad_signature" };
  const claims = parseClaims(new TextDecoder().decode(payloadBytes));
  if (!claims) return { type: "malformed" };
  if (claims.exp * 1000 <= nowMs) return { type: "expired", expiredAt: claims.exp * 1000 };
  return { type: "valid", claims };
}

function claimsFor(sub: string, options: Omit<MintOptions, "agent" | "session">): SessionClaims {
  const now = options.now ?? Date.now();
  const claims: SessionClaims = {
    sub,
    scope: [...(options.scope ?? ["read", "write"])],
    exp: Math.floor(now / 1000) + (options.ttlSeconds ?? 3600),
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.tags === undefined ? {} : { tags: [...options.tags] }),
  };
  return claims;
}

function parseClaims(json: string): SessionClaims | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const c = value as Record<string, unknown>;
  if (typeof c.sub !== "string" || typeof c.exp !== "number") return undefined;
  if (!Array.isArray(c.scope) || !c.scope.every((s) => TOKEN_SCOPES.includes(s))) return undefined;
  if (c.user !== undefined && typeof c.user !== "string") return undefined;
  if (c.prefix !== undefined && c.prefix !== true) return undefined;
  if (
    c.tags !== undefined &&
    !(Array.isArray(c.tags) && c.tags.every((t) => typeof t === "string"))
  )
    return undefined;
  return c as unknown as SessionClaims;
}
