/**
 * How much one read or frame carries: the encoded items up to and including the one whose size
 * brings the total to `budget`, so at least one item goes out even when it alone is over the
 * budget. The one rule for ledger reads (ledger-source.ts, `maxBytes`) and session WebSocket
 * frames (Cloudflare's websocket-protocol.ts, a quarter of the socket's window).
 */
export function takeUntilBudget<T, P>(
  items: readonly T[],
  encode: (item: T) => P,
  size: (piece: P) => number,
  budget: number,
): P[] {
  const pieces: P[] = [];
  let total = 0;
  for (const item of items) {
    const piece = encode(item);
    pieces.push(piece);
    total += size(piece);
    if (total >= budget) break;
  }
  return pieces;
}
