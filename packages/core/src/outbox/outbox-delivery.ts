import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { SqlPort } from "../sql/port.ts";
import type { DueItem } from "../triggers/due-work.ts";
import type { TriggerHandler, TriggerOutcome } from "../triggers/pump.ts";
import {
  acknowledge,
  outboxLagMs,
  outboxSize,
  type PendingMessage,
  pendingMessages,
} from "./outbox.ts";

export interface OutboxDeliveryOptions {
  /** Sends a batch; must be idempotent per (topic, key). A rejection retries the batch with backoff. */
  readonly deliver: (messages: readonly PendingMessage[]) => Promise<void>;
  readonly batchSize?: number;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Longest wait between failed deliveries (ms); failures back off from 1 s up to this. Default 300 000. */
  readonly maxBackoffMs?: number;
  /** How often the pump looks at a delivery in flight (ms). Default 1 000. */
  readonly checkEveryMs?: number;
  /**
   * A delivery unanswered after this long (ms) counts as failed and backs off;
   * if it lands later its messages are acknowledged then, and the redelivery
   * meanwhile is absorbed by the idempotent receiver. Default 30 000.
   */
  readonly timeoutMs?: number;
}

interface Flight {
  readonly startedAt: number;
  settled: boolean;
}

/**
 * The trigger kind that drains the outbox, off the critical path: `run` starts
 * a batch's delivery and returns at once (due again in `checkEveryMs`), so a
 * slow or hung receiver never holds the pump, and a session's next run step
 * never waits for it. The batch is acknowledged when the delivery resolves.
 *
 * A failed (or timed-out) delivery never gives up: it backs off (1 s doubling,
 * capped) and tries again, so a receiver outage delays messages but never
 * drops them; each failure logs `lagMs`, the age of the oldest undelivered
 * message. If the object dies with a delivery in flight, its due-work row is
 * still due, and the next incarnation delivers the batch again (at least once).
 */
export class OutboxDelivery implements TriggerHandler {
  readonly #sql: SqlPort;
  readonly #options: OutboxDeliveryOptions;
  #failures = 0;
  #retryAt = 0;
  #flight: Flight | undefined;

  constructor(sql: SqlPort, options: OutboxDeliveryOptions) {
    this.#sql = sql;
    this.#options = options;
  }

  async run(): Promise<TriggerOutcome> {
    const now = this.#options.clock.now();
    const checkEvery = this.#options.checkEveryMs ?? 1_000;
    const flight = this.#flight;
    if (flight && !flight.settled) {
      const deadline = flight.startedAt + (this.#options.timeoutMs ?? 30_000);
      if (now < deadline) return { type: "again", at: Math.min(now + checkEvery, deadline) };
      this.#failed(flight, new Error(`delivery unanswered after ${now - flight.startedAt} ms`));
    }
    if (now < this.#retryAt) return { type: "again", at: this.#retryAt };
    const batch = pendingMessages(this.#sql, this.#options.batchSize ?? 100);
    if (batch.length === 0) return outboxSize(this.#sql) > 0 ? { type: "again" } : { type: "done" };
    this.#start(batch, now);
    return { type: "again", at: now + checkEvery };
  }

  /** True while a batch is out and unanswered (and not yet timed out). */
  get delivering(): boolean {
    return this.#flight !== undefined && !this.#flight.settled;
  }

  #start(batch: readonly PendingMessage[], now: number): void {
    const flight: Flight = { startedAt: now, settled: false };
    this.#flight = flight;
    let sent: Promise<void>;
    try {
      sent = this.#options.deliver(batch);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent
      .then(
        () => {
          // Acknowledged even if the flight timed out meanwhile: the receiver has the batch.
          acknowledge(this.#sql, batch);
          if (flight.settled) return;
          flight.settled = true;
          if (this.#failures > 0)
            this.#options.logger.info("outbox delivery recovered", {
              failures: this.#failures,
              lagMs: outboxLagMs(this.#sql, this.#options.clock.now()),
            });
          this.#failures = 0;
          this.#retryAt = 0;
        },
        (error: unknown) => this.#failed(flight, error),
      )
      .catch((error: unknown) => {
        // The object went away under the delivery (its storage is gone): the row redelivers.
        this.#options.logger.warn("outbox acknowledgement failed", { error: String(error) });
      });
  }

  #failed(flight: Flight, error: unknown): void {
    if (flight.settled) return;
    flight.settled = true;
    this.#failures++;
    const wait = Math.min(1000 * 2 ** (this.#failures - 1), this.#options.maxBackoffMs ?? 300_000);
    const now = this.#options.clock.now();
    this.#retryAt = now + wait;
    this.#options.logger.warn("outbox delivery failed; retrying", {
      failures: this.#failures,
      retryInMs: wait,
      lagMs: outboxLagMs(this.#sql, now),
      error: String(error),
    });
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
