/**
 * The idle prompt caches of an isolate, under one budget: the conversations (message-cache.ts)
 * that session objects keep in memory between runs, so that a run following another does not
 * read its whole history again.
 *
 * Invariants:
 * 1. Only an idle cache (no step of its run will run soon: `keep`) is held here; a cache in use
 *    (`use`, from its next prompt on) is not, so a running run's cache is never dropped by
 *    another object. Which is which is decided in one place, `InFlightCalls.settle`
 *    (in-flight.ts, applied by the run driver): idle when the run stopped, waits, or waits out a retry, and no call of
 *    the object is in flight.
 * 2. `bytes` is the sum of the sizes the held caches had when kept. A held cache does not
 *    change while held (it changes only through its own prompt or invalidate, which `use` it
 *    first), so `bytes` is exactly what they hold, and it never exceeds `budgetBytes`.
 * 3. When a kept cache does not fit, the least recently kept ones are dropped until it does; a
 *    cache bigger than the whole budget is dropped itself and drops no other.
 * 4. The entries are the caches' own state (messages, sizes), never their SQL port, so a held
 *    cache of an object the runtime evicted keeps no more than its messages alive, within the
 *    budget, until it is dropped.
 */

/** What a budget holds: a cache's state, with its size and a way to empty it. */
export interface IdleCache {
  /** Its size, in UTF-16 code units of its messages' JSON. */
  readonly bytes: number;
  /** Empties it: its next prompt reads the conversation again. */
  drop(): void;
}

/**
 * The default budget: 16 MiB of idle conversation per isolate, as UTF-16 code units of the
 * messages' JSON (what `MessageCache.bytes` counts). The source is the isolate's memory limit,
 * 128 MB on Cloudflare (https://developers.cloudflare.com/workers/platform/limits/), shared by
 * every object the isolate hosts. Measured in V8 (Node 22, `JSON.parse` of prompts, heap used):
 * a parsed prompt takes 1.0× its JSON length for long Latin-1 texts, 2.0× for CJK texts (two
 * bytes a character) and 2.2× for short messages (~88 characters each, the object overhead
 * dominates). So the idle caches take at most ~35 MiB of heap (about a quarter of the limit),
 * leaving the rest to the runs in progress (whose caches are not counted here), requests and
 * the runtime; and they hold, for example, eighteen conversations of 10,000 short messages
 * (0.88 MB each) or sixty-four of 256 KiB, the former per-object idle limit.
 */
export const DEFAULT_IDLE_PROMPT_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * A budget for idle prompt caches, least recently used dropped first. One per isolate by
 * default (`isolateIdlePromptCaches`, module state shared by every session runtime the isolate
 * hosts); a runtime may be given its own (`SessionRuntimeOptions.idlePromptCaches`,
 * `createAgentServer({ idlePromptCacheBytes })`).
 */
export class IdlePromptCaches {
  /** The most idle conversation held at once, in UTF-16 code units of JSON. */
  readonly budgetBytes: number;
  /** The held caches and the size each was kept with, least recently kept first (Map order). */
  readonly #held = new Map<IdleCache, number>();
  #bytes = 0;

  constructor(budgetBytes = DEFAULT_IDLE_PROMPT_CACHE_BYTES) {
    if (!(budgetBytes >= 0))
      throw new RangeError(
        `the idle prompt cache budget must be a number of bytes ≥ 0, got ${budgetBytes}`,
      );
    this.budgetBytes = budgetBytes;
  }

  /** The idle conversation held, in UTF-16 code units of JSON (≤ `budgetBytes`). */
  get bytes(): number {
    return this.#bytes;
  }

  /** How many idle caches are held. */
  get count(): number {
    return this.#held.size;
  }

  /**
   * A cache went idle (no step of its run will run soon): holds it as the most recently used,
   * then drops the least recently used ones until the held caches fit the budget. One bigger
   * than the budget is dropped. Keeping a held cache again only makes it the most recent.
   */
  keep(cache: IdleCache): void {
    this.use(cache);
    const bytes = cache.bytes;
    if (bytes === 0) return;
    if (bytes > this.budgetBytes) {
      cache.drop();
      return;
    }
    this.#held.set(cache, bytes);
    this.#bytes += bytes;
    for (const [oldest, size] of this.#held) {
      if (this.#bytes <= this.budgetBytes) break;
      this.#held.delete(oldest);
      this.#bytes -= size;
      oldest.drop();
    }
  }

  /** A cache is in use again (a prompt) or changes (invalidate): it is no longer held. */
  use(cache: IdleCache): void {
    const size = this.#held.get(cache);
    if (size === undefined) return;
    this.#held.delete(cache);
    this.#bytes -= size;
  }
}

/** The isolate's budget: module state, shared by every runtime not given its own. */
export const isolateIdlePromptCaches = new IdlePromptCaches();
