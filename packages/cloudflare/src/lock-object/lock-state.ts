/**
 * The state machine of one lock. Pure: every transition is decided here and
 * committed by the lock object in one statement.
 *
 * Invariants:
 * 1. `token` only grows. Each successful acquire takes `token + 1`, so fencing
 *    tokens of one lock increase strictly, across releases and restarts.
 * 2. A holder owns the lock while `now < expiresAt`. After that anyone may
 *    acquire it, and the old holder's token is stale for every fenced write.
 * 3. Refresh and release need the holder's current token: an expired or
 *    replaced holder can neither extend nor drop someone else's lock.
 */
export interface LockState {
  readonly token: number;
  readonly owner: string | null;
  readonly expiresAt: number;
}

export const FREE: LockState = { token: 0, owner: null, expiresAt: 0 };

export type AcquireDecision =
  | { readonly type: "acquired"; readonly next: LockState }
  | { readonly type: "held"; readonly owner: string; readonly expiresAt: number };

export type HolderDecision =
  | { readonly type: "ok"; readonly next: LockState }
  | { readonly type: "stale"; readonly currentToken: number; readonly expired: boolean };

export function isHeld(state: LockState, now: number): boolean {
  return state.owner !== null && now < state.expiresAt;
}

export function decideAcquire(
  state: LockState,
  owner: string,
  ttlMs: number,
  now: number,
): AcquireDecision {
  if (isHeld(state, now) && state.owner !== null)
    return { type: "held", owner: state.owner, expiresAt: state.expiresAt };
  return { type: "acquired", next: { token: state.token + 1, owner, expiresAt: now + ttlMs } };
}

/** The holder with `token` extends its lease; anyone else is stale. */
export function decideRefresh(
  state: LockState,
  token: number,
  ttlMs: number,
  now: number,
): HolderDecision {
  const check = decideFence(state, token, now);
  if (check.type === "stale") return check;
  return { type: "ok", next: { ...state, expiresAt: now + ttlMs } };
}

/** The holder with `token` frees the lock; the token counter stays where it is. */
export function decideRelease(state: LockState, token: number, now: number): HolderDecision {
  const check = decideFence(state, token, now);
  if (check.type === "stale") return check;
  return { type: "ok", next: { token: state.token, owner: null, expiresAt: 0 } };
}

/** A fenced write is allowed only with the current, unexpired holder's token. */
export function decideFence(state: LockState, token: number, now: number): HolderDecision {
  if (token === state.token && isHeld(state, now)) return { type: "ok", next: state };
  return {
    type: "stale",
    currentToken: state.token,
    // Token 0 of a lock never acquired (FREE) has not expired: it was never a lease.
    expired: token === state.token && state.token > 0 && !isHeld(state, now),
  };
}
