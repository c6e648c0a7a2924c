import type { Clock } from "../clock.ts";
import { RetryableError } from "../errors/base.ts";

/**
 * How long a model call may wait for its provider. A call that exceeds either is aborted
 * and fails with a retryable `model_timeout`: the pump retries it within its budget, and the
 * run ends `run.failed` when the retries run out. Nothing waits forever.
 */
export interface ModelTimeouts {
  /**
   * From the request to the first stream part with content (text, reasoning or a tool call).
   * Default 120 s: reasoning models may think for a long time before their first token.
   */
  readonly firstTokenMs: number;
  /** Between two stream parts once the answer has started. Default 60 s. */
  readonly idleMs: number;
}

/**
 * The reason the watchdog's own controllers are aborted with (a nap cut short, the watch
 * stopped): nothing reads it, and `abort()` without one builds a DOMException with its stack
 * on every model call.
 */
const WOKEN = "woken";

export const DEFAULT_MODEL_TIMEOUTS: ModelTimeouts = { firstTokenMs: 120_000, idleMs: 60_000 };

/** A model as the ledger, usage and errors name it: `provider:modelId`. */
export function modelName(model: { readonly provider: string; readonly modelId: string }): string {
  return `${model.provider}:${model.modelId}`;
}

/**
 * The watchdog of one call of `model` by an agent: its `modelTimeouts` over the defaults. The
 * one setup of the step's model call (model-step.ts) and the compaction's summary call
 * (model-summarizer.ts).
 */
export function watchdogFor(
  clock: Clock,
  timeouts: Partial<ModelTimeouts> | undefined,
  model: { readonly provider: string; readonly modelId: string },
): ModelWatchdog {
  return new ModelWatchdog(clock, { ...DEFAULT_MODEL_TIMEOUTS, ...timeouts }, modelName(model));
}

/**
 * A watchdog over one streamed model call. `touch()` on every stream part; `signal` aborts
 * the call when a timeout fires (its reason is the `model_timeout` error); `guard` makes any
 * promise of the call reject then too, so a provider that ignores its abort signal cannot
 * hold the step. `stop()` when the call is over.
 */
export class ModelWatchdog {
  readonly #clock: Clock;
  readonly #timeouts: ModelTimeouts;
  readonly #model: string;
  readonly #timeout = new AbortController();
  readonly #stopped = new AbortController();
  #last: number;
  #started = false;
  /** Wakes the watch early when the deadline moves earlier (the first token switches to idleMs). */
  #nap = new AbortController();
  readonly #fired: Promise<never>;

  constructor(clock: Clock, timeouts: ModelTimeouts, model: string) {
    this.#clock = clock;
    this.#timeouts = timeouts;
    this.#model = model;
    this.#last = clock.now();
    this.#fired = new Promise<never>((_, reject) => {
      this.#timeout.signal.addEventListener("abort", () => reject(this.#timeout.signal.reason), {
        once: true,
      });
    });
    this.#fired.catch(() => undefined);
    void this.#watch();
  }

  /** Aborted when a timeout fires; the reason is the `model_timeout` RetryableError. */
  get signal(): AbortSignal {
    return this.#timeout.signal;
  }

  /** A stream part arrived: `content` when it carries text, reasoning or a tool call. */
  touch(content: boolean): void {
    if (content && !this.#started) {
      this.#started = true;
      this.#nap.abort(WOKEN);
    }
    if (this.#started) this.#last = this.#clock.now();
  }

  /** `promise`, or the timeout's rejection if that comes first. */
  guard<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.#fired]);
  }

  stop(): void {
    this.#stopped.abort(WOKEN);
    this.#nap.abort(WOKEN);
  }

  async #watch(): Promise<void> {
    while (!this.#stopped.signal.aborted) {
      const limit = this.#started ? this.#timeouts.idleMs : this.#timeouts.firstTokenMs;
      const wait = this.#last + limit - this.#clock.now();
      if (wait <= 0) {
        const what = this.#started
          ? `went quiet for ${limit} ms mid-answer (idleMs)`
          : `sent no first token within ${limit} ms (firstTokenMs)`;
        this.#timeout.abort(
          new RetryableError(
            "model_timeout",
            `model ${this.#model} ${what}; the call was aborted and will be retried. Raise the agent's modelTimeouts if the model is slow rather than stuck`,
          ),
        );
        return;
      }
      this.#nap = new AbortController();
      await this.#clock.sleep(wait, this.#nap.signal).catch(() => undefined);
    }
  }
}
