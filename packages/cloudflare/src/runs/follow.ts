/**
 * The live reads of a run handle: the ledger until the run stops (`followRun`), and the run's
 * outcome (`waitForOutcome`), each a loop of store calls that wait in the session object.
 *
 * Invariants:
 * 1. Each read starts at the offset the previous one answered (`nextOffset`), so a read that
 *    failed (an object reset mid-read, a lost reply) is read again from the same place: no
 *    event is skipped or yielded twice. Reads change nothing, so reading again is safe.
 * 2. A typed refusal (a `DurableAgentsError`: unknown run, bad offset) ends the loop with that
 *    error; any other failure is retried with backoff, at most `maxAttempts` times in a row.
 * 3. An aborted `signal` ends the loop quietly; the read in flight is left to finish in the
 *    object (at most its wait) and its answer is dropped.
 */
import {
  DurableAgentsError,
  type RunRead,
  type RunWait,
  type StoreCall,
  type WireEvent,
} from "@durable-agents/core";

/** How stream() and result() retry a read that failed (an object that restarted, a network error). */
export interface RetryOptions {
  /** Failed reads in a row before giving up with the last error. Default 8. */
  readonly maxAttempts?: number;
  /** Delay before the first retry, doubling up to `maxDelayMs`. Default 100 ms. */
  readonly initialDelayMs?: number;
  /** Default 2 000 ms. */
  readonly maxDelayMs?: number;
  /** Called before each retry with the failure it follows (to log it, or show "reconnecting…"). */
  readonly onRetry?: (error: unknown, attempt: number) => void;
}

export type Call = <T>(call: StoreCall) => Promise<T>;

/** How long one read or outcome call may wait in the object for something to answer, in ms. */
const WAIT_MS = 25_000;

/**
 * The ledger from `offset` (default: the run's start) up to and including the event where
 * the run stops, live. `runId` undefined: the session's latest run at the first read.
 */
export async function* followRun(
  call: Call,
  from: { readonly runId?: string; readonly offset?: string },
  signal: AbortSignal | undefined,
  retry: RetryOptions,
): AsyncGenerator<WireEvent, void, undefined> {
  let { runId, offset } = from;
  for (;;) {
    const read = await retrying(
      () =>
        call<RunRead>({
          op: "read",
          waitMs: WAIT_MS,
          ...(runId === undefined ? {} : { runId }),
          ...(offset === undefined ? {} : { offset }),
        }),
      signal,
      retry,
    );
    if (read === undefined) return;
    runId = read.runId;
    offset = read.nextOffset;
    for (const event of read.events) yield event;
    if (read.ended) return;
  }
}

/** Waits until the run (default: the session's latest) stops; undefined once `signal` aborts. */
export async function waitForOutcome(
  call: Call,
  runId: string | undefined,
  signal: AbortSignal | undefined,
  retry: RetryOptions,
): Promise<Extract<RunWait, { stopped: true }>["outcome"] | undefined> {
  let followed = runId;
  for (;;) {
    const answer = await retrying(
      () =>
        call<RunWait>({
          op: "outcome",
          waitMs: WAIT_MS,
          ...(followed === undefined ? {} : { runId: followed }),
        }),
      signal,
      retry,
    );
    if (answer === undefined) return undefined;
    if (answer.stopped) return answer.outcome;
    followed = answer.runId;
  }
}

/**
 * Runs `read` until it answers (invariant 2); undefined when `signal` aborts first. The
 * client package's `createBackoff` does the same for browsers, but the server package does
 * not depend on the client (nor the client on core at run time), hence this small loop.
 */
async function retrying<T>(
  read: () => Promise<T>,
  signal: AbortSignal | undefined,
  retry: RetryOptions,
): Promise<T | undefined> {
  const maxAttempts = retry.maxAttempts ?? 8;
  const initial = retry.initialDelayMs ?? 100;
  const max = retry.maxDelayMs ?? 2_000;
  for (let failures = 0; ; ) {
    if (signal?.aborted) return undefined;
    try {
      return await abortable(read(), signal);
    } catch (error) {
      if (signal?.aborted) return undefined;
      if (error instanceof DurableAgentsError) throw error;
      if (++failures >= maxAttempts) throw error;
      retry.onRetry?.(error, failures);
      await sleep(Math.min(max, initial * 2 ** (failures - 1)), signal);
    }
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
