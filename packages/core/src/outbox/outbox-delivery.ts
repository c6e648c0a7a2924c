import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { SqlPort } from "../sql/port.ts";
import type { DueItem } from "../triggers/due-work.ts";
import type { TriggerHandler, TriggerOutcome } from "../triggers/pump.ts";
import { acknowledge, outboxSize, type PendingMessage, pendingMessages } from "./outbox.ts";

export interface OutboxDeliveryOptions {
  /** Sends a batch; must be idempotent per (topic, key). A throw retries the batch with backoff. */
  readonly deliver: (messages: readonly PendingMessage[]) => Promise<void>;
  readonly batchSize?: number;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Longest wait between failed deliveries; failures back off from 1 s up to this. */
  readonly maxBackoffMs?: number;
}

/**
 * The trigger kind that drains the outbox, one batch per run. A failed
 * delivery never gives up: it backs off (1 s doubling, capped) and tries
 * again, so a receiver outage delays messages but never drops them.
 */
export class OutboxDelivery implements TriggerHandler {
  readonly #sql: SqlPort;
  readonly #options: OutboxDeliveryOptions;
  #failures = 0;

  constructor(sql: SqlPort, options: OutboxDeliveryOptions) {
    this.#sql = sql;
    this.#options = options;
  }

  async run(): Promise<TriggerOutcome> {
    const batch = pendingMessages(this.#sql, this.#options.batchSize ?? 100);
    if (batch.length > 0) {
      try {
        await this.#options.deliver(batch);
      } catch (error) {
        this.#failures++;
        const wait = Math.min(
          1000 * 2 ** (this.#failures - 1),
          this.#options.maxBackoffMs ?? 300_000,
        );
        this.#options.logger.warn("outbox delivery failed; retrying", {
          failures: this.#failures,
          retryInMs: wait,
          error: String(error),
        });
        return { type: "again", at: this.#options.clock.now() + wait };
      }
      this.#failures = 0;
      acknowledge(this.#sql, batch);
    }
    return outboxSize(this.#sql) > 0 ? { type: "again" } : { type: "done" };
  }

  /** Only reached on a bug in this class (run never throws on delivery errors): keep the messages, try later. */
  giveUp(_payload: unknown, error: unknown, item: DueItem): number {
    this.#options.logger.error("outbox delivery failed unexpectedly; messages are kept", {
      attempts: item.attempts,
      pending: outboxSize(this.#sql),
      error: String(error),
    });
    return this.#options.clock.now() + (this.#options.maxBackoffMs ?? 300_000);
  }
}
