import { abortReason } from "./errors.ts";

/** How a live reader retries a broken connection. */
export interface RetryPolicy {
  /** Delay before the first retry. Default 250 ms. */
  readonly initialDelayMs?: number;
  /** Upper bound of the doubling delay. Default 5 000 ms. */
  readonly maxDelayMs?: number;
  /**
   * Consecutive failed attempts before giving up with the last error.
   * A connection that delivers anything resets the count. Default 8
   * (about 25 s of outage); `Infinity` retries forever.
   */
  readonly maxAttempts?: number;
  /** Called before each wait, e.g. to show "reconnecting…" in a UI. */
  readonly onRetry?: (retry: RetryInfo) => void;
}

export interface RetryInfo {
  /** 1 for the first retry after a failure. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly delayMs: number;
  /** Why the last attempt failed. */
  readonly error: unknown;
}

export interface Backoff {
  /** Waits before the next attempt; throws `lastError` once attempts are exhausted. */
  wait(lastError: unknown, signal: AbortSignal | undefined): Promise<void>;
  reset(): void;
}

export function createBackoff(policy: RetryPolicy = {}): Backoff {
  const initial = policy.initialDelayMs ?? 250;
  const max = policy.maxDelayMs ?? 5_000;
  const maxAttempts = policy.maxAttempts ?? 8;
  let attempts = 0;
  return {
    async wait(lastError, signal) {
      attempts++;
      if (attempts > maxAttempts) throw lastError;
      const base = Math.min(max, initial * 2 ** (attempts - 1));
      // Jitter on the upper half keeps many readers from reconnecting in lockstep.
      const delayMs = Math.round(base / 2 + Math.random() * (base / 2));
      policy.onRetry?.({ attempt: attempts, maxAttempts, delayMs, error: lastError });
      await sleep(delayMs, signal);
    },
    reset() {
      attempts = 0;
    },
  };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
