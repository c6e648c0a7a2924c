import type { Clock } from "../clock.ts";
import { DurableAgentsError, RetryableError } from "../errors/base.ts";
import type { Logger } from "../logger.ts";
import type { DueItem, DueWork } from "./due-work.ts";

/**
 * The trigger pump: runs due work until none is due. Rows run one at a time, except rows
 * of a `concurrentKinds` kind (a run's step, which may stream a model answer for minutes):
 * those run alongside, while the pump goes on with the other due rows and wakes for the
 * next one's due time, so a slow or hung model call never delays a session's schedules,
 * hooks or outbox.
 *
 * Invariants:
 * 1. Work runs only under a claim. The claim's lease is renewed while the
 *    handler runs, so only a holder that died lets its lease expire.
 * 2. Every row ends in exactly one of: done (deleted), again (rescheduled),
 *    retry (rescheduled with backoff), or given up. Giving up calls the kind's
 *    `giveUp`, which must record a terminal fact; nothing is dropped silently.
 * 3. An outcome applies to the revision that was claimed: a row rescheduled
 *    while its work ran keeps its new schedule (see `DueWork`).
 * 4. A row of an unknown kind is given up with `unknown_trigger_kind` and stays
 *    listed (never deleted), so an operator sees it.
 * 5. A row runs at most once at a time: it is leased while it runs (invariant 1), so a
 *    concurrent row (one run's step) is never claimed again before it ends.
 * 6. A retry waits the backoff, or exactly what a `RetryableError` says (`retryAfterMs`,
 *    e.g. a provider's Retry-After), capped at `retryAfterMaxMs`.
 * 7. A concurrent row whose handler answers "again, now" (a run's next action) is run again
 *    under the same claim: `DueWork.continue` stores what releasing it and claiming it again
 *    would (leased, first attempt) in at most one write, and the lease is kept renewed. Such
 *    a row runs alongside the others anyway, so no other row waits for it. Only within the
 *    pass's budget: past it, the row is released and the pass ends, so a run's actions never
 *    keep one alarm invocation going longer than a step past `budgetMs`.
 */
export type TriggerOutcome = (
  | { readonly type: "done" }
  | { readonly type: "again"; readonly at?: number }
) & {
  /**
   * Commits the handler's staged effects atomically with the row's outcome: it must call
   * `settle` (the pump's write of the row) inside its own transaction. If it throws, nothing
   * of it is stored and the row is retried like a handler that threw.
   */
  readonly commit?: (settle: () => void) => void;
};

export interface TriggerRunContext {
  readonly attempt: number;
  readonly item: DueItem;
}

/**
 * Runs one kind of due work. `Payload` is what that kind's rows hold: the pump
 * hands over the row's stored JSON unchecked, so a kind must only ever be
 * scheduled with its own payload (the runtime's kinds go through
 * `scheduleRuntimeWork`, which types them).
 */
export interface TriggerHandler<Payload = unknown> {
  run(payload: Payload, ctx: TriggerRunContext): Promise<TriggerOutcome>;
  /**
   * Called when retries are exhausted or the error is terminal. Records the
   * failure durably. Returns when the row is due again (a cron's next time), or
   * nothing to delete it.
   */
  giveUp(payload: Payload, error: unknown, item: DueItem): number | undefined;
}

export interface PumpOptions {
  readonly leaseMs: number;
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** The longest wait a `RetryableError.retryAfterMs` may ask for. */
  readonly retryAfterMaxMs: number;
  /** Stop starting new work after this long in one `run`; the caller re-arms the alarm. */
  readonly budgetMs: number;
  /** Kinds whose rows run alongside the others instead of one at a time (the runtime: `run.step`). */
  readonly concurrentKinds?: ReadonlySet<string>;
  /** Records a row whose kind nothing handles (e.g. removed by a deploy). */
  readonly onUnknownKind?: (item: DueItem) => void;
}

/** The reason the pump's own sleeps are cut short with (a DOMException per row otherwise). */
const ENDED = "ended";

export const DEFAULT_PUMP_OPTIONS: PumpOptions = {
  leaseMs: 30_000,
  maxAttempts: 5,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  retryAfterMaxMs: 15 * 60_000,
  budgetMs: 25_000,
};

export class TriggerPump {
  readonly #work: DueWork;
  readonly #handlers: ReadonlyMap<string, TriggerHandler>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #options: PumpOptions;
  #running: Promise<void> | undefined;
  /** A `run` call arrived while a pass was in progress: it looks for due rows again at once. */
  #kicked = false;
  #kick: (() => void) | undefined;

  constructor(
    work: DueWork,
    handlers: ReadonlyMap<string, TriggerHandler>,
    clock: Clock,
    logger: Logger,
    options: Partial<PumpOptions> = {},
  ) {
    this.#work = work;
    this.#handlers = handlers;
    this.#clock = clock;
    this.#logger = logger;
    this.#options = { ...DEFAULT_PUMP_OPTIONS, ...options };
  }

  get options(): PumpOptions {
    return this.#options;
  }

  /**
   * Runs due work until none is due or the budget is spent. Concurrent calls share one loop,
   * and each makes a loop that is waiting look for due rows again at once: the caller (an
   * alarm, a write that scheduled work) may have written a row its wait knew nothing of, while
   * a concurrent row (a hung tool call, a long model stream) holds the pass open.
   */
  run(): Promise<void> {
    if (this.#running) {
      this.#kicked = true;
      this.#kick?.();
      return this.#running;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #loop(): Promise<void> {
    this.#kicked = false;
    const started = this.#clock.now();
    const inFlight = new Set<Promise<void>>();
    const running = new Set<number>();
    for (;;) {
      // The budget bounds a pass of one-at-a-time work; while a concurrent row runs, the pass
      // lives on anyway, so it keeps serving the rows that fall due meanwhile.
      const open = this.#clock.now() - started < this.#options.budgetMs || inFlight.size > 0;
      const item = open
        ? this.#work.claim(this.#clock.now(), this.#options.leaseMs, running)
        : undefined;
      if (item && this.#options.concurrentKinds?.has(item.kind)) {
        running.add(item.id);
        const task: Promise<void> = this.#runOne(item, started)
          .catch((error) =>
            this.#logger.error("due work failed outside its handler", {
              kind: item.kind,
              key: item.key,
              error: String(error),
            }),
          )
          .finally(() => {
            inFlight.delete(task);
            running.delete(item.id);
          });
        inFlight.add(task);
        continue;
      }
      if (item) {
        await this.#runOne(item, started);
        continue;
      }
      if (inFlight.size === 0) return;
      // A `run` call came while this pass worked: look again before waiting.
      if (this.#kicked) {
        this.#kicked = false;
        continue;
      }
      // Nothing due now: wait for a concurrent row to end, for the next row's due time, or for
      // a `run` call (a row written meanwhile).
      const next = this.#work.nextWakeAt(running);
      const wake = new AbortController();
      const kicked = new Promise<void>((settle) => {
        this.#kick = settle;
      });
      const waits: Promise<unknown>[] = [Promise.race(inFlight), kicked];
      if (next !== null)
        waits.push(
          this.#clock
            .sleep(Math.max(0, next - this.#clock.now()), wake.signal)
            .catch(() => undefined),
        );
      await Promise.race(waits);
      this.#kick = undefined;
      this.#kicked = false;
      wake.abort(ENDED);
    }
  }

  /** Runs one claimed row; `passStarted`: when this pass began (its budget bounds continuations). */
  async #runOne(item: DueItem, passStarted: number): Promise<void> {
    const handler = this.#handlers.get(item.kind);
    if (!handler) {
      this.#logger.error(
        "due work of an unknown kind; register it with createAgentServer({ triggers })",
        {
          kind: item.kind,
          key: item.key,
        },
      );
      this.#work.release(item, Number.MAX_SAFE_INTEGER, {
        resetAttempts: false,
        error: "unknown_trigger_kind",
      });
      this.#options.onUnknownKind?.(item);
      return;
    }
    const stopRenewal = this.#keepLease(item);
    let held = item;
    try {
      let outcome = await handler.run(held.payload, { attempt: held.attempts, item: held });
      // A concurrent row whose handler goes on at once keeps its claim (invariant 7).
      while (this.#continues(held, outcome, passStarted)) {
        const next = this.#work.continue(held, this.#clock.now(), this.#options.leaseMs);
        if (!next) return; // Rescheduled meanwhile: it stays as scheduled, for the next claim.
        held = next;
        outcome = await handler.run(held.payload, { attempt: held.attempts, item: held });
      }
      const at = outcome.type === "again" ? (outcome.at ?? this.#clock.now()) : undefined;
      let settled = false;
      const settle = () => {
        settled = true;
        if (at === undefined) this.#work.complete(held);
        else this.#work.release(held, at, { resetAttempts: true });
      };
      if (outcome.commit) outcome.commit(settle);
      else settle();
      if (!settled) throw new Error(`the ${item.kind} handler's commit did not settle its row`);
    } catch (error) {
      this.#fail(held, handler, error);
    } finally {
      stopRenewal();
    }
  }

  /**
   * Whether `outcome` of a claimed row goes on under the same claim (invariant 7): not once the
   * pass's budget is spent, so a long run goes on in the next pass (on Cloudflare, a fresh alarm
   * invocation, each of which has a wall-clock and a CPU limit), as when each action was
   * released and claimed again.
   */
  #continues(item: DueItem, outcome: TriggerOutcome, passStarted: number): boolean {
    return (
      this.#clock.now() - passStarted < this.#options.budgetMs &&
      outcome.type === "again" &&
      outcome.commit === undefined &&
      (outcome.at === undefined || outcome.at <= this.#clock.now()) &&
      this.#options.concurrentKinds?.has(item.kind) === true
    );
  }

  #fail(item: DueItem, handler: TriggerHandler, error: unknown): void {
    const retryable = !(error instanceof DurableAgentsError) || error.retryable;
    const message = error instanceof Error ? error.message : String(error);
    if (retryable && item.attempts < this.#options.maxAttempts) {
      const delay = retryDelay(error, item.attempts, this.#options);
      this.#logger.warn("due work failed; retrying", {
        kind: item.kind,
        key: item.key,
        attempt: item.attempts,
        delayMs: delay,
        error: message,
      });
      this.#work.release(item, this.#clock.now() + delay, {
        resetAttempts: false,
        error: message,
      });
      return;
    }
    this.#logger.error("due work gave up", {
      kind: item.kind,
      key: item.key,
      attempts: item.attempts,
      error: message,
    });
    const again = handler.giveUp(item.payload, error, item);
    if (again === undefined) this.#work.complete(item);
    else this.#work.release(item, again, { resetAttempts: true, error: message });
  }

  #keepLease(item: DueItem): () => void {
    const controller = new AbortController();
    const every = Math.max(1, Math.floor(this.#options.leaseMs / 3));
    const renew = async () => {
      while (!controller.signal.aborted) {
        await this.#clock.sleep(every, controller.signal).catch(() => undefined);
        if (!controller.signal.aborted)
          this.#work.renew(item, this.#clock.now() + this.#options.leaseMs);
      }
    };
    void renew();
    return () => controller.abort(ENDED);
  }
}

/** The backoff for a failed attempt (1-based), or the error's own Retry-After when it has one. */
export function retryDelay(
  error: unknown,
  attempt: number,
  options: Pick<PumpOptions, "backoffBaseMs" | "backoffMaxMs" | "retryAfterMaxMs">,
): number {
  if (error instanceof RetryableError && error.retryAfterMs !== undefined)
    return Math.min(Math.max(0, error.retryAfterMs), options.retryAfterMaxMs);
  return Math.min(options.backoffBaseMs * 2 ** (attempt - 1), options.backoffMaxMs);
}
