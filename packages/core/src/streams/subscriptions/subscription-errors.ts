/**
 * Subscription errors render as `{"error":{"code", "message", ...fields}}`: the spec puts
 * recovery data such as `current_holder` next to the code, so fields sit at the top level.
 */
import { DurableAgentsError } from "../../errors/base.ts";

export class SubscriptionError extends DurableAgentsError {
  override name = "SubscriptionError";
  readonly fields: Record<string, unknown>;
  constructor(code: string, status: number, message: string, fields: Record<string, unknown> = {}) {
    super(code, status, message, false);
    this.fields = fields;
  }

  override toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message, ...this.fields } };
  }
}

export function subscriptionError(
  code: string,
  status: number,
  message: string,
  fields?: Record<string, unknown>,
): SubscriptionError {
  return new SubscriptionError(code, status, message, fields);
}

/**
 * 409 `FENCED`: every refused callback, ack or release, whatever the cause (bad token or
 * stale wake), as the conformance suite expects; `reason` says which check failed.
 */
export function fenced(reason: string, message: string): SubscriptionError {
  return subscriptionError("FENCED", 409, message, { reason });
}
