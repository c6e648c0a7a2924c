import type { AppContext } from "../app-events/app-context.ts";
import { StagedEffects } from "../app-events/staged.ts";
import type { Clock } from "../clock.ts";
import { DurableAgentsError } from "../errors/base.ts";
import type { JsonValue } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { getRun } from "../ledger/projections/runs.ts";
import type { Logger } from "../logger.ts";
import type { SqlPort } from "../sql/port.ts";
import type { DueItem, DueWork } from "../triggers/due-work.ts";
import type { TriggerHandler, TriggerOutcome } from "../triggers/pump.ts";
import type { FaultInjector } from "./faults.ts";
import { ON_COMPLETE_KIND, type RunPayload, scheduleRuntimeWork } from "./runtime-work.ts";

/**
 * The `onComplete` hook as due work.
 *
 * Invariants:
 * 1. When a hook is configured, a completed run's row (`hook:on_complete:<runId>`)
 *    is written in the same transaction as its `run.completed`: a crash loses
 *    neither or both. Nothing else writes it (a fork's copied runs get none).
 * 2. Delivery is at least once. The row is deleted only after the hook
 *    resolved; a throw retries with the pump's backoff, and a crash redrives it.
 *    Every delivery carries the same `idempotencyKey`.
 * 3. A hook that keeps failing (retries spent, or a terminal error) ends as a
 *    `trigger.failed` event and an error log; it never disappears silently.
 */
export { ON_COMPLETE_KIND };

/**
 * What `onComplete` gets for one completed run. From `AppContext`: `emit` (staged: its events
 * commit with this delivery's completion, once), `projection` and `schedule`.
 */
export interface RunCompletedInfo extends AppContext {
  readonly agent: string;
  readonly session: string;
  readonly runId: string;
  readonly output: unknown;
  /**
   * The same on every delivery of this run's hook (`<agent>/<session>/<runId>`):
   * delivery is at least once, so dedupe side effects on it.
   */
  readonly idempotencyKey: string;
  /** Aborted when the hook runs past its timeout (`onCompleteTimeoutMs`): stop, it is retried. */
  readonly signal: AbortSignal;
}

/** How long one delivery of `onComplete` may take before it counts as failed and is retried. */
export const DEFAULT_ON_COMPLETE_TIMEOUT_MS = 30_000;

/** A delivery that did not settle in time: retryable, like a throw. */
export class HookTimeoutError extends DurableAgentsError {
  override name = "HookTimeoutError";
  constructor(runId: string, timeoutMs: number) {
    super(
      "hook_timeout",
      504,
      `the onComplete hook for run ${runId} did not settle within ${timeoutMs} ms, so it will be retried; return sooner (queue slow work elsewhere) or raise hooks.onCompleteTimeoutMs`,
      true,
    );
  }
}

export type CompletionHook = (info: RunCompletedInfo) => void | Promise<void>;

export function completionHookKey(runId: string): string {
  return `hook:on_complete:${runId}`;
}

/** Call inside the transaction that appends the run's `run.completed` (invariant 1). */
export function scheduleCompletionHook(work: DueWork, runId: string, now: number): void {
  scheduleRuntimeWork(work, ON_COMPLETE_KIND, completionHookKey(runId), { runId }, now, now);
}

export interface CompletionHookDeps {
  readonly sql: SqlPort;
  readonly ledger: Ledger;
  readonly agent: string;
  readonly sessionId: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly faults?: FaultInjector;
  /** Default DEFAULT_ON_COMPLETE_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** The app context of one delivery, whose events go to `staged`. */
  readonly app: (staged: StagedEffects) => AppContext;
}

/**
 * The pump handler for `hook.on_complete`. Registered even without a hook, so
 * that rows left from a deploy that had one are finished, not parked as unknown.
 */
export function completionHookHandler(
  hook: CompletionHook | undefined,
  deps: CompletionHookDeps,
): TriggerHandler<RunPayload> {
  return {
    async run({ runId }): Promise<TriggerOutcome> {
      if (!hook) {
        deps.logger.warn("onComplete work found but no onComplete hook is configured; skipped", {
          runId,
        });
        return { type: "done" };
      }
      const run = getRun(deps.sql, runId);
      await deps.faults?.("before-on-complete", {
        sessionId: deps.sessionId,
        runId,
        step: run?.step ?? 0,
      });
      const timeoutMs = deps.timeoutMs ?? DEFAULT_ON_COMPLETE_TIMEOUT_MS;
      const hookSignal = new AbortController();
      // A hook that throws synchronously still becomes a rejection, raced like any other.
      const staged = new StagedEffects(null);
      const delivery = (async () =>
        hook({
          ...deps.app(staged),
          agent: deps.agent,
          session: deps.sessionId,
          runId,
          output: (run?.output ?? null) satisfies JsonValue,
          idempotencyKey: `${deps.agent}/${deps.sessionId}/${runId}`,
          signal: hookSignal.signal,
        }))();
      // A hook that never settles would hold this session's pump (its next runs too).
      const timer = new AbortController();
      const expired = deps.clock.sleep(timeoutMs, timer.signal).then(
        () => {
          hookSignal.abort(new HookTimeoutError(runId, timeoutMs));
          throw new HookTimeoutError(runId, timeoutMs);
        },
        () => undefined, // the delivery settled first and cancelled the timer
      );
      try {
        await Promise.race([delivery, expired]);
      } finally {
        timer.abort();
      }
      return { type: "done", commit: (settle) => staged.commit(deps.ledger, deps.sql, settle) };
    },
    giveUp({ runId }, error, item: DueItem): undefined {
      const info = {
        code: error instanceof DurableAgentsError ? error.code : "hook_failed",
        message: error instanceof Error ? error.message : String(error),
      };
      const recorded = !deps.ledger.closed;
      deps.logger.error(
        `onComplete hook for run ${runId} gave up after ${item.attempts} attempt(s): ${info.message}; ${recorded ? "recorded as trigger.failed" : "the session is closed, so only this log records it"}`,
        { runId, attempts: item.attempts, code: info.code, error: info.message },
      );
      if (!recorded) return;
      deps.ledger.append([
        {
          kind: "trigger.failed",
          runId: null,
          data: { kind: ON_COMPLETE_KIND, key: item.key, attempts: item.attempts, error: info },
        },
      ]);
    },
  };
}
