import type { Ledger } from "../ledger/ledger.ts";
import type { Logger } from "../logger.ts";
import type { DueWork } from "../triggers/due-work.ts";

/**
 * The session's one wake-up (the DO alarm), asked of the `wake` port: every wake-up goes
 * through `arm`, which remembers what it last asked for.
 */
export class WakeUp {
  readonly #port: (at: number | null) => void | Promise<void>;
  /** The wake-up last asked of the port (null: none, or not known yet). */
  #armedAt: number | null = null;

  constructor(port: (at: number | null) => void | Promise<void>) {
    this.#port = port;
  }

  /** Arms the wake-up at `at` (epoch ms), or clears it (null). */
  arm(at: number | null): void | Promise<void> {
    this.#armedAt = at;
    return this.#port(at);
  }

  /**
   * Work written by an append outside the alarm (a reply queued by a close, an index message)
   * is due without a wake-up of its own: after each append that leaves due work earlier than
   * the armed wake-up, an earlier one is asked for. What it decides depends only on the due
   * work (`DueWork.revision`) and the armed wake-up: an append that changed neither is not
   * asked about again (one query per step, not per event).
   */
  follow(ledger: Ledger, work: DueWork, logger: Logger): void {
    let seen: { revision: number; armedAt: number | null } | undefined;
    ledger.onAppend(() => {
      const now = { revision: work.revision, armedAt: this.#armedAt };
      if (seen?.revision === now.revision && seen.armedAt === now.armedAt) return;
      seen = now;
      const next = work.nextWakeAt();
      if (next === null || (this.#armedAt !== null && this.#armedAt <= next)) return;
      void Promise.resolve(this.arm(next)).catch((error: unknown) =>
        logger.error("could not arm the wake-up for due work", { error: String(error) }),
      );
    });
  }
}
