/**
 * Wake tokens (PROTOCOL.md 7.1, 7.2, 12.9): the bearer token of one wake, a compact HS256
 * JWT `header.payload.signature` (base64url) signed with the registry's token secret.
 *
 * Invariants:
 * 1. A token names one subscription, one wake (`wid`, `gen`, `jti`) and one kind: a
 *    `callback` token (webhook) opens only `/callback`, a `claim` token (pull-wake) only
 *    `/ack` and `/release`.
 * 2. The signature is checked first (`crypto.subtle.verify`, constant time), then the
 *    expiry; the claims are trusted only after both.
 * 3. A token lives `WAKE_TOKEN_TTL_MS` from issue: the lease ceiling, so any single lease
 *    fits and heartbeats can extend a wake for that long without a new token. It is never
 *    enough on its own: the registry also matches the claims against the stored wake.
 */
import { fromBase64Url, toBase64Url } from "../../auth/base64url.ts";
import { hmacSign, hmacVerify } from "../../auth/hmac.ts";
import { MAX_LEASE_TTL_MS } from "./subscription-types.ts";

export type WakeTokenKind = "callback" | "claim";

export interface WakeTokenClaims {
  /** Subscription id. */
  readonly sub: string;
  /** Wake id. */
  readonly wid: string;
  /** Wake generation. */
  readonly gen: number;
  readonly kind: WakeTokenKind;
  /** Token id, stored on the wake (`Wake.token`). */
  readonly jti: string;
  /** Issued at and expiry, seconds since the epoch. */
  readonly iat: number;
  readonly exp: number;
}

export type WakeTokenCheck =
  | { readonly type: "valid"; readonly claims: WakeTokenClaims }
  | { readonly type: "malformed" }
  | { readonly type: "bad_signature" }
  | { readonly type: "expired"; readonly expiredAt: number };

/** A token's lifetime: the `lease_ttl_ms` ceiling (10 minutes). */
export const WAKE_TOKEN_TTL_MS = MAX_LEASE_TTL_MS;

const HEADER = toBase64Url(new TextEncoder().encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
const encoder = new TextEncoder();

export async function mintWakeToken(
  secret: string,
  wake: { sub: string; wid: string; gen: number; kind: WakeTokenKind; jti: string },
  nowMs: number,
): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const claims: WakeTokenClaims = { ...wake, iat, exp: iat + WAKE_TOKEN_TTL_MS / 1000 };
  const body = `${HEADER}.${toBase64Url(encoder.encode(JSON.stringify(claims)))}`;
  return `${body}.${await hmacSign(secret, body)}`;
}

/** Signature first, then expiry against `nowMs`. */
export async function verifyWakeToken(
  secret: string,
  token: string,
  nowMs: number,
): Promise<WakeTokenCheck> {
  const parts = token.split(".");
  if (parts.length !== 3 || token.length > 4096) return { type: "malformed" };
  const [header = "", payload = "", signature = ""] = parts;
  const signatureBytes = fromBase64Url(signature);
  if (header !== HEADER || signatureBytes === undefined) return { type: "malformed" };
  if (!(await hmacVerify(secret, signatureBytes, `${header}.${payload}`)))
    return { type: "bad_signature" };
  const claims = parseClaims(payload);
  if (claims === undefined) return { type: "malformed" };
  if (claims.exp * 1000 <= nowMs) return { type: "expired", expiredAt: claims.exp * 1000 };
  return { type: "valid", claims };
}

function parseClaims(payload: string): WakeTokenClaims | undefined {
  const bytes = fromBase64Url(payload);
  if (bytes === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const c = value as Record<string, unknown>;
  const ok =
    typeof c.sub === "string" &&
    typeof c.wid === "string" &&
    typeof c.jti === "string" &&
    Number.isInteger(c.gen) &&
    (c.kind === "callback" || c.kind === "claim") &&
    typeof c.iat === "number" &&
    typeof c.exp === "number";
  return ok ? (c as unknown as WakeTokenClaims) : undefined;
}
