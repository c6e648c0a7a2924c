/**
 * Stream-Cursor (PROTOCOL.md 10.1): the 20-second interval number since 2024-10-09, never
 * going backwards. If the client's cursor is already at or past the current interval, answer
 * a strictly larger one with 1-3600 s of random jitter, so CDN cache keys keep moving.
 */
const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9);
const INTERVAL_SECONDS = 20;

export function nextCursor(
  clientCursor: string | null,
  nowMs: number,
  random: () => number,
): string {
  const current = Math.floor((nowMs - CURSOR_EPOCH_MS) / 1000 / INTERVAL_SECONDS);
  const client =
    clientCursor !== null && /^\d+$/.test(clientCursor) ? Number(clientCursor) : Number.NaN;
  if (!Number.isSafeInteger(client) || client < current) return String(current);
  const jitterSeconds = 1 + Math.floor(random() * 3600);
  return String(client + Math.max(1, Math.ceil(jitterSeconds / INTERVAL_SECONDS)));
}

/** Later control events on one SSE response: keep the cursor, or move it up with the clock. */
export function advanceCursor(previous: string, nowMs: number): string {
  const current = Math.floor((nowMs - CURSOR_EPOCH_MS) / 1000 / INTERVAL_SECONDS);
  return String(Math.max(Number(previous), current));
}
