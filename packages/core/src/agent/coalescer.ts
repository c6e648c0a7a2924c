import type { Clock } from "../clock.ts";

export interface CoalesceOptions {
  /** Flush buffered text after this long. */
  readonly maxDelayMs: number;
  /** Flush as soon as this many characters are buffered. */
  readonly maxChars: number;
}

export const DEFAULT_COALESCE: CoalesceOptions = { maxDelayMs: 50, maxChars: 1024 };

/**
 * Buffers model text deltas so that a fast stream becomes a few ledger events
 * instead of one per token. The time check runs on each delta (no timer), so a
 * stalled stream flushes on its next delta or at its end.
 */
export class DeltaCoalescer {
  readonly #clock: Clock;
  readonly #options: CoalesceOptions;
  readonly #flush: (text: string) => void;
  #buffer = "";
  #since = 0;

  constructor(clock: Clock, options: CoalesceOptions, flush: (text: string) => void) {
    this.#clock = clock;
    this.#options = options;
    this.#flush = flush;
  }

  push(delta: string): void {
    if (delta === "") return;
    if (this.#buffer === "") this.#since = this.#clock.now();
    this.#buffer += delta;
    const old = this.#clock.now() - this.#since >= this.#options.maxDelayMs;
    if (old || this.#buffer.length >= this.#options.maxChars) this.flush();
  }

  flush(): void {
    if (this.#buffer === "") return;
    const text = this.#buffer;
    this.#buffer = "";
    this.#flush(text);
  }
}
