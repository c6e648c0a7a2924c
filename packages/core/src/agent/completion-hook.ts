import type { AppContext } from "../app-events/app-context.ts";
import { StagedEffects } from "../app-events/staged.ts";
import type { Clock } from "../clock.ts";
import { DurableAgentsError } from "../errors/base.ts";
import { type ErrorInfo, type JsonValue, TERMINAL_KINDS } from "../ledger/events.ts";
import type { Ledger, Reactor } from "../ledger/ledger.ts";
import {
  getRun,
  RUN_STATUS_AFTER,
  type RunStatus,
  runStartSettings,
} from "../ledger/projections/runs.ts";
import type { Logger } from "../logger.ts";
import type { SqlPort } from "../sql/port.ts";
import type { DueItem, DueWork } from "../triggers/due-work.ts";
import type { TriggerHandler, TriggerOutcome } from "../triggers/pump.ts";
import type { FaultInjector } from "./faults.ts";
import {
  dueWorkOf,
  ON_COMPLETE_KIND,
  type RunEndPayload,
  scheduleRuntimeWork,
} from "./runtime-work.ts";

/**
 * The `onComplete` hook as due work.
 *
 * Invariants:
 * 1. When a hook is configured, each end of a run (`run.completed`, `run.failed`,
 *    `run.interrupted`, `run.aborted`) writes the row `hook:on_complete:<runId>:<seq>`
 *    in the same transaction as that event (a ledger reactor, whoever appends it):
 *    a crash loses neither or both. Copied history (a fork's prefix) writes none.
 * 2. Delivery is at least once. The row is deleted only after the hook
 *    resolved; a throw retries with the pump's backoff, and a crash redrives it.
 *    Every delivery of one end carries the same `idempotencyKey`.
 * 3. A hook that keeps failing (retries spent, or a terminal error) ends as a
 *    `trigger.failed` event and an error log; it never disappears silently.
 */
export { ON_COMPLETE_KIND };

/** How a run ended, as `onComplete` sees it: the status a terminal event leaves (RUN_STATUS_AFTER). */
export type RunEndStatus = Exclude<RunStatus, "running" | "waiting">;

/**
 * What `onComplete` gets for one end of a run (an interrupted run can end again after a
 * resume). From `AppContext`: `emit` (staged: its events commit with this delivery's
 * completion, once), `projection` and `schedule`.
 */
export interface RunCompletedInfo extends AppContext {
  readonly agent: string;
  readonly session: string;
  readonly runId: string;
  /** How the run ended. */
  readonly status: RunEndStatus;
  /** The run's step when it ended. */
  readonly step: number;
  /** The run's output when `completed`; otherwise null. */
  readonly output: unknown;
  /** Why it failed (`failed`). */
  readonly error?: ErrorInfo;
  /** The reason given (`interrupted`, `aborted`). */
  readonly reason?: string;
  /** The metadata the run was started with (`POST .../runs` `{metadata}`), if any. */
  readonly metadata?: Readonly<Record<string, JsonValue>>;
  /** The ledger seq of the event that ended the run. */
  readonly seq: number;
  /**
   * The same on every delivery of this end's hook (`<agent>/<session>/<runId>/<seq>`):
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

export function completionHookKey(runId: string, seq: number): string {
  return `hook:on_complete:${runId}:${seq}`;
}

/** The reactor that writes each end's row (invariant 1): new facts only, never copied history. */
export function completionHookReactor(clock: Clock): Reactor {
  return (sql, event) => {
    if (!TERMINAL_KINDS.has(event.kind) || !event.runId) return;
    const now = clock.now();
    scheduleCompletionHook(dueWorkOf(sql), event.runId, event.seq, now);
  };
}

/** Call inside the transaction that appends the run's end, event `seq` (invariant 1). */
export function scheduleCompletionHook(
  work: DueWork,
  runId: string,
  seq: number,
  now: number,
): void {
  scheduleRuntimeWork(
    work,
    ON_COMPLETE_KIND,
    completionHookKey(runId, seq),
    { runId, seq },
    now,
    now,
  );
}

/** The end at `seq` (a row from an older deploy has none: that was a completion). */
function runEnd(
  ledger: Ledger,
  sql: SqlPort,
  runId: string,
  seq: number | undefined,
): Pick<RunCompletedInfo, "status" | "output" | "error" | "reason" | "metadata" | "seq" | "step"> {
  const run = getRun(sql, runId);
  const metadata = runStartSettings(sql, runId)?.metadata;
  const base = { step: run?.step ?? 0, ...(metadata ? { metadata } : {}) };
  const event = seq === undefined ? undefined : ledger.read(seq - 1, 1)[0];
  if (!event || event.runId !== runId || !TERMINAL_KINDS.has(event.kind))
    return { ...base, status: "completed", output: run?.output ?? null, seq: seq ?? 0 };
  const status = RUN_STATUS_AFTER[event.kind] as RunEndStatus;
  const data = event.data as { output?: JsonValue; error?: ErrorInfo; reason?: string };
  return {
    ...base,
    status,
    seq: event.seq,
    output: data.output ?? null,
    ...(data.error ? { error: data.error } : {}),
    ...(data.reason !== undefined ? { reason: data.reason } : {}),
  };
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
): TriggerHandler<RunEndPayload> {
  return {
    async run({ runId, seq }): Promise<TriggerOutcome> {
      if (!hook) {
        deps.logger.warn("onComplete work found but no onComplete hook is configured; skipped", {
          runId,
        });
        return { type: "done" };
      }
      const end = runEnd(deps.ledger, deps.sql, runId, seq);
      await deps.faults?.("before-on-complete", {
        sessionId: deps.sessionId,
        runId,
        step: end.step,
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
          ...end,
          idempotencyKey: `${deps.agent}/${deps.sessionId}/${runId}${seq === undefined ? "" : `/${seq}`}`,
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
