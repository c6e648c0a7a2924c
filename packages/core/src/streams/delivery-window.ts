/**
 * The delivery window of a session's live readers: the one place that decides when appends
 * reach live connections. Every transport waits on it (the WebSocket hub, `live=sse` and
 * `live=long-poll` on `GET .../events`, AG-UI and the UI message stream), and each of them
 * then sends everything since its last send, in one write.
 *
 * Invariants:
 * 1. Listeners are told at most once per window: two flushes start at least `windowMs` apart,
 *    counted from the start of the first, so sends scale with readers × 1/window, not
 *    readers × events. With `windowMs` 0 they are told in the append's own tick.
 * 2. After an append, a flush follows within the window (or the gap of rule 3); an append
 *    after a quiet spell is flushed at once (in a microtask, after the append returns).
 * 3. After a flush ends, the next one waits at least as long as that flush took (its cost),
 *    so fan-out takes at most about half of the object's time and the run keeps the other
 *    half: a slow fan-out lowers the send rate, never the append rate. With rule 1, the next
 *    flush starts at max(start + window, end + cost): the period is max(window, 2 × cost).
 *    (It used to be end + max(window, cost), so a flush cheaper than the window lengthened
 *    every period by its own cost: ~30 ms instead of ~24 at 2 readers on bare workerd. Once
 *    a flush costs more than half the window, as at 200 readers there, both give 2 × cost;
 *    docs/benchmarks.md, "The window from the flush's start".)
 * 4. A pending flush is a timer, so the object stays awake (does not hibernate) until every
 *    append has been offered to its readers.
 * 5. A reader waiting for the next flush (`next`) costs a set entry, not a timer: at 1,000
 *    readers, a timer, an AbortController and two abort listeners per reader per flush were
 *    a quarter of the fan-out's JavaScript time (bench/fanout.ts with BENCH_PROFILE=1;
 *    docs/benchmarks.md, Fan-out). Only while some reader waits is a timeout timer armed
 *    (the earliest deadline), so an idle object can hibernate.
 */
import type { Clock } from "../clock.ts";
import type { Ledger } from "../ledger/ledger.ts";

/** Default window between two deliveries to one connection, in ms (docs/limits.md). */
export const DEFAULT_DELIVERY_WINDOW_MS = 20;

export type FlushListener = () => void;

interface Waiter {
  readonly resolve: () => void;
  /** When it stops waiting, on the window's clock (ms). */
  readonly deadline: number;
  readonly signal: AbortSignal;
}

export class DeliveryWindow {
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #listeners = new Set<FlushListener>();
  /** When the last flush started and ended, and how long it took. */
  #lastStart = Number.NEGATIVE_INFINITY;
  #lastEnd = Number.NEGATIVE_INFINITY;
  #lastCost = 0;
  #pending = false;
  /** A flush ran and its cost is not known yet (`#settled`). */
  #settling = false;
  /** `next()` calls waiting for the next flush, and the same by abort signal. */
  readonly #waiters = new Set<Waiter>();
  readonly #bySignal = new WeakMap<AbortSignal, Set<Waiter>>();
  /** The one timeout timer: when it fires, and how to cancel it. */
  #timeoutAt = Number.POSITIVE_INFINITY;
  #timeoutStop: AbortController | undefined;

  constructor(ledger: Ledger, clock: Clock, windowMs: number) {
    this.#clock = clock;
    this.#windowMs = Math.max(0, windowMs);
    ledger.onAppend(() => this.#schedule());
  }

  /** The configured window, in ms. */
  get windowMs(): number {
    return this.#windowMs;
  }

  /** Calls `listener` at every flush; returns the unsubscribe. */
  onFlush(listener: FlushListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Resolves at the next flush, after `timeoutMs`, or on abort (whichever comes first).
   * Waiting costs no timer and no listener of its own (invariant 5): the window keeps one
   * timer for the earliest timeout, and one abort listener per signal for its life.
   */
  next(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, deadline: this.#clock.now() + timeoutMs, signal };
      this.#waiters.add(waiter);
      let mine = this.#bySignal.get(signal);
      if (mine === undefined) {
        const set = new Set<Waiter>();
        mine = set;
        this.#bySignal.set(signal, set);
        signal.addEventListener("abort", () => this.#release(set), { once: true });
      }
      mine.add(waiter);
      if (waiter.deadline < this.#timeoutAt) this.#armTimeout(waiter.deadline);
    });
  }

  #release(waiters: Iterable<Waiter>): void {
    for (const waiter of [...waiters]) {
      this.#waiters.delete(waiter);
      this.#bySignal.get(waiter.signal)?.delete(waiter);
      waiter.resolve();
    }
    if (this.#waiters.size === 0) this.#disarmTimeout();
  }

  /** The one timeout timer, at `deadline` (earlier than the one armed, if any). */
  #armTimeout(deadline: number): void {
    this.#disarmTimeout();
    const stop = new AbortController();
    this.#timeoutStop = stop;
    this.#timeoutAt = deadline;
    this.#clock.sleep(Math.max(0, deadline - this.#clock.now()), stop.signal).then(
      () => this.#expire(stop),
      () => undefined,
    );
  }

  #disarmTimeout(): void {
    this.#timeoutStop?.abort();
    this.#timeoutStop = undefined;
    this.#timeoutAt = Number.POSITIVE_INFINITY;
  }

  /** The timer fired: release the waiters whose timeout has passed, re-arm for the rest. */
  #expire(stop: AbortController): void {
    if (this.#timeoutStop !== stop) return;
    this.#timeoutStop = undefined;
    this.#timeoutAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    const due: Waiter[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const waiter of this.#waiters) {
      if (waiter.deadline <= now) due.push(waiter);
      else next = Math.min(next, waiter.deadline);
    }
    this.#release(due);
    if (next < Number.POSITIVE_INFINITY) this.#armTimeout(next);
  }

  #schedule(): void {
    if (this.#windowMs === 0) {
      this.#flush();
      return;
    }
    if (this.#pending) return;
    this.#pending = true;
    if (!this.#settling) this.#arm();
  }

  /** Schedules the pending flush: at once after a quiet spell, else at rules 1 and 3's time. */
  #arm(): void {
    const due = Math.max(this.#lastStart + this.#windowMs, this.#lastEnd + this.#lastCost);
    const wait = due - this.#clock.now();
    if (wait <= 0) queueMicrotask(() => this.#flush());
    else
      this.#clock.sleep(wait).then(
        () => this.#flush(),
        () => this.#flush(),
      );
  }

  #flush(): void {
    this.#pending = false;
    const start = this.#clock.now();
    for (const listener of [...this.#listeners]) listener();
    if (this.#waiters.size > 0) this.#release(this.#waiters);
    if (this.#windowMs === 0) return;
    // What a flush costs is also what it set off: readers' loops continue in microtasks, and
    // the runtime moves their bytes after that. Workers' clock does not move within one
    // synchronous turn either, so the cost is read on the next turn of the event loop
    // (invariant 3); a flush due meanwhile waits for it.
    this.#settling = true;
    this.#clock.sleep(0).then(
      () => this.#settled(start),
      () => this.#settled(start),
    );
  }

  #settled(start: number): void {
    this.#settling = false;
    this.#lastStart = start;
    this.#lastEnd = this.#clock.now();
    this.#lastCost = this.#lastEnd - start;
    if (this.#pending) this.#arm();
  }
}

const windows = new WeakMap<Ledger, DeliveryWindow>();

/**
 * The delivery window of `ledger`: one per ledger, made by the first transport that asks, so
 * every connection of a session shares it. `windowMs` is the session's `live.windowMs`.
 */
export function deliveryWindow(ledger: Ledger, clock: Clock, windowMs: number): DeliveryWindow {
  let window = windows.get(ledger);
  if (window === undefined) {
    window = new DeliveryWindow(ledger, clock, windowMs);
    windows.set(ledger, window);
  }
  return window;
}
