/** The signals of one performed action: its model call's and its tools'. */
export interface InFlight {
  readonly model: AbortController;
  readonly tools: AbortController;
}

/**
 * The run driver's calls in flight, by run (one for the alarm driver, one per tool step on the
 * Workflow executor), and the one rule of when its prompt cache goes idle, which depends on
 * them. `release` hands the cache to the budget of idle caches (idle-prompt-caches.ts).
 */
export class InFlightCalls {
  readonly #byRun = new Map<string, Set<InFlight>>();
  readonly #release: () => void;
  /** No step of a run follows at once: the cache goes to the budget when the calls in flight land. */
  #idleWhenLanded = false;

  constructor(release: () => void) {
    this.#release = release;
  }

  /** A performed action's signals, registered before its first await so an abort finds them. */
  start(runId: string): InFlight {
    const flight = { model: new AbortController(), tools: new AbortController() };
    const flights = this.#byRun.get(runId) ?? new Set<InFlight>();
    flights.add(flight);
    this.#byRun.set(runId, flights);
    return flight;
  }

  landed(runId: string, flight: InFlight): void {
    const flights = this.#byRun.get(runId);
    flights?.delete(flight);
    if (flights?.size === 0) this.#byRun.delete(runId);
  }

  /** Aborts the run's model calls in flight (an interrupt: their partial answers are kept). */
  interrupt(runId: string): void {
    for (const flight of this.#byRun.get(runId) ?? []) flight.model.abort(new Error("interrupted"));
  }

  /** Aborts the run's model and tool calls in flight (an abort). */
  abort(runId: string): void {
    for (const flight of this.#byRun.get(runId) ?? []) {
      flight.model.abort(new Error("aborted"));
      flight.tools.abort(new Error("aborted"));
    }
  }

  /** A decision found an action to perform now: the cache stays in use. */
  inUse(): void {
    this.#idleWhenLanded = false;
  }

  /**
   * The one rule of the prompt cache's idleness (idle-prompt-caches.ts), applied after every
   * decision (`RunDriver.decide`), every performed action (`perform`), every give-up and every
   * abort (`abortInFlight`: an aborted run has no step row left, so no decision of it follows),
   * on both executors. The cache stays in use while a step of the run follows at once: `decide`
   * found an action to perform (`inUse`), or a commit moved the run (`again`), or `perform`
   * answered `again`. When none holds (`goesOn` false) no step of the run will run soon: it
   * stopped (ended, failed, waits for an approval, a delegated call or a workflow, was
   * interrupted or aborted, a call in flight or not), its decision or action threw (the alarm
   * waits its backoff or the provider's Retry-After, the Workflow its step's retry delay, or the
   * run fails), or a workflow tool's job runs in the run's Workflow step. The cache then goes
   * into the budget of idle caches, to be used by the next step or run or dropped for more
   * recent ones, as soon as no call of this object is in flight: a call still in flight may
   * prompt again (a compaction), so it goes when the last one lands (`#idleWhenLanded`). Tested
   * by test/idle-prompt-caches-stops.test.ts, one case per way a run stops or pauses.
   */
  settle(goesOn: boolean): void {
    if (!goesOn) this.#idleWhenLanded = true;
    if (!this.#idleWhenLanded || this.#byRun.size > 0) return;
    this.#idleWhenLanded = false;
    this.#release();
  }
}
