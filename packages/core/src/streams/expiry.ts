/** TTL and Expires-At (PROTOCOL.md 5.1): when a stream expires, and what a fork inherits. */
import type { ExpiryRequest } from "./request-headers.ts";
import type { StreamMeta } from "./store.ts";

/** Epoch ms when the stream expires, or null when it never does. */
export function expiresAtMs(meta: StreamMeta): number | null {
  if (meta.ttlSeconds !== null) return meta.lastAccessAt + meta.ttlSeconds * 1000;
  if (meta.expiresAt !== null) return Date.parse(meta.expiresAt);
  return null;
}

export function isExpired(meta: StreamMeta, now: number): boolean {
  const at = expiresAtMs(meta);
  return at !== null && now >= at;
}

/** The fork expiry table of PROTOCOL.md 4.2: the fork's own request wins, else inherit the source's. */
export function forkExpiry(requested: ExpiryRequest, source: ExpiryRequest): ExpiryRequest {
  if (requested.ttlSeconds !== null || requested.expiresAt !== null) return requested;
  return source;
}

export function sameExpiry(a: ExpiryRequest, b: ExpiryRequest): boolean {
  const aMs = a.expiresAt === null ? null : Date.parse(a.expiresAt);
  const bMs = b.expiresAt === null ? null : Date.parse(b.expiresAt);
  return a.ttlSeconds === b.ttlSeconds && aMs === bMs;
}
