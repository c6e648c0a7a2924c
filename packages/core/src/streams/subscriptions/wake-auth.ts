/**
 * Who may call back, ack or release (PROTOCOL.md 7.3, 12.9). A pure check in the order the
 * spec asks for: the token's signature, its expiry, then its claims against the stored
 * wake, so a validly signed token of a superseded wake is still refused.
 */
import type { Subscription, Wake } from "./subscription-types.ts";
import type { WakeTokenCheck } from "./wake-token.ts";

export type SettleAction = "callback" | "ack" | "release";

export type FenceReason =
  | "missing_token"
  | "malformed_token"
  | "bad_signature"
  | "token_expired"
  | "wrong_subscription"
  | "wrong_token_kind"
  | "subscription_deleted"
  | "stale_wake";

export type WakeAuthDecision =
  | { readonly type: "allowed"; readonly sub: Subscription; readonly wake: Wake }
  | { readonly type: "fenced"; readonly reason: FenceReason; readonly message: string };

export interface SettleRequest {
  readonly id: string;
  readonly action: SettleAction;
  readonly wakeId: unknown;
  readonly generation: unknown;
}

export function authorizeSettle(
  check: WakeTokenCheck | { readonly type: "missing" },
  sub: Subscription | null,
  request: SettleRequest,
): WakeAuthDecision {
  const { id, action } = request;
  const kind = action === "callback" ? "callback" : "claim";
  const source =
    kind === "callback" ? "the webhook's callback_token" : "the claim response's token";
  const fence = (reason: FenceReason, message: string): WakeAuthDecision => ({
    type: "fenced",
    reason,
    message: `${action} for subscription "${id}" refused: ${message}`,
  });
  switch (check.type) {
    case "missing":
      return fence("missing_token", `send "Authorization: Bearer <token>" with ${source}`);
    case "malformed":
      return fence(
        "malformed_token",
        `the bearer token is not a wake token; send ${source} as issued`,
      );
    case "bad_signature":
      return fence(
        "bad_signature",
        "the token's signature does not verify (altered, or signed with another token secret); wait for the next wake or claim again",
      );
    case "expired":
      return fence(
        "token_expired",
        `the token expired at ${new Date(check.expiredAt).toISOString()}; wait for the next wake or claim again`,
      );
  }
  const claims = check.claims;
  if (claims.sub !== id)
    return fence("wrong_subscription", `the token belongs to subscription "${claims.sub}"`);
  if (claims.kind !== kind)
    return fence(
      "wrong_token_kind",
      `a ${claims.kind} token cannot ${action}; callback tokens go to /callback, claim tokens to /ack and /release`,
    );
  if (sub === null) return fence("subscription_deleted", "the subscription was deleted");
  const wake = sub.wake;
  const current =
    wake !== null &&
    wake.token === claims.jti &&
    wake.id === claims.wid &&
    wake.generation === claims.gen &&
    request.wakeId === wake.id &&
    request.generation === wake.generation;
  if (!current || wake === null)
    return fence(
      "stale_wake",
      `wake ${String(request.wakeId)} (generation ${String(request.generation)}) is no longer current (the subscription is at generation ${sub.generation}${wake === null ? ", with no wake active" : ""}); a stale worker must stop and wait for the next wake`,
    );
  return { type: "allowed", sub, wake };
}
