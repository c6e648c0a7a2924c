import type { Clock } from "../clock.ts";

interface Sleeper {
  until: number;
  resolve: () => void;
}

/** A clock that only moves when told to; sleeps resolve as time passes them. */
export class ManualClock implements Clock {
  #now: number;
  #sleepers = new Set<Sleeper>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const sleeper: Sleeper = { until: this.#now + ms, resolve };
      this.#sleepers.add(sleeper);
      signal?.addEventListener(
        "abort",
        () => {
          this.#sleepers.delete(sleeper);
          reject(signal.reason);
        },
        { once: true },
      );
      this.#wake();
    });
  }

  advance(ms: number): void {
    this.#now += ms;
    this.#wake();
  }

  #wake(): void {
    for (const sleeper of this.#sleepers) {
      if (sleeper.until > this.#now) continue;
      this.#sleepers.delete(sleeper);
      sleeper.resolve();
    }
  }
}
