import { StagedEffects } from "../app-events/staged.ts";
import type { Clock } from "../clock.ts";
import { DurableAgentsError, TerminalError } from "../errors/base.ts";
import { BadRequestError } from "../errors/http-errors.ts";
import { validate } from "../http/read-json.ts";
import type { ErrorInfo, NewEvent } from "../ledger/events.ts";
import { check } from "../validation/check.ts";
import type { CronSchedules } from "./cron-port.ts";
import {
  assertDistinctKinds,
  type TriggerContext,
  type TriggerDefinition,
} from "./define-trigger.ts";
import type { DueItem, DueWork } from "./due-work.ts";
import type { TriggerHandler, TriggerOutcome } from "./pump.ts";

/**
 * How far ahead a schedule may be due (10 years), for `delayMs` and `at` alike. The Durable
 * Object alarm that wakes a session takes no time at or before the epoch nor after 2189.
 */
export const MAX_SCHEDULE_AHEAD_MS = 10 * 365 * 24 * 3600_000;

/** When a schedule is due: exactly one of these. */
export type When =
  | { readonly at: number }
  | { readonly delayMs: number }
  | {
      /** Five fields or a shorthand (`@daily`); see `parseCron`. */
      readonly cron: string;
      /** IANA time zone the cron's fields are read in; default `UTC`. */
      readonly timeZone?: string;
    };

interface StoredPayload {
  readonly payload: unknown;
  readonly cron?: string;
  readonly timeZone?: string;
}

export interface ScheduleView {
  readonly key: string;
  readonly kind: string;
  readonly payload: unknown;
  readonly cron: string | null;
  /** The cron's time zone (`UTC` unless one was given); null for a one-shot. */
  readonly timeZone: string | null;
  readonly dueAt: number;
  readonly attempts: number;
  readonly lastError: string | null;
  /** Claimed and its lease ran out: its holder died; it waits for a redrive. */
  readonly stuck: boolean;
}

export interface ScheduleDeps {
  readonly work: DueWork;
  readonly clock: Clock;
  readonly record: (events: NewEvent[]) => void;
  /** The context of one run; `staged` collects its events and SQL writes. */
  readonly context: (
    key: string,
    attempt: number,
    staged: StagedEffects,
  ) => Omit<TriggerContext, "key" | "attempt" | "signal">;
  /** Commits a run's staged effects with its row's outcome (`settle`), in one transaction. */
  readonly commit: (staged: StagedEffects, settle: () => void) => void;
  /**
   * Computes cron times (`cronSchedules` from `@durable-agents/core/cron`). Absent: a cron
   * schedule is refused (400 `cron_off`), and a stored one is not moved on (`trigger.failed`).
   */
  readonly cron?: CronSchedules;
}

/** The reason a cancelled run's `ctx.signal` carries. */
export class TriggerCancelledError extends TerminalError {
  override name = "TriggerCancelledError";
  constructor(key: string, reason: string) {
    super("trigger_cancelled", `schedule "${key}" was cancelled: ${reason}`);
  }
}

interface RunningTrigger {
  readonly controller: AbortController;
  cancelled: boolean;
}

/**
 * Application schedules over due work: a typed registry of kinds, one-shot
 * (`at`, `delayMs`) or recurring (`cron`). A run that keeps failing ends as a
 * `trigger.failed` event in the ledger; a cron moves on to its next time.
 */
export class Schedules {
  readonly #kinds: ReadonlyMap<string, TriggerDefinition>;
  readonly #deps: ScheduleDeps;
  /** Runs under way in this instance, by schedule key. */
  readonly #running = new Map<string, RunningTrigger>();

  constructor(kinds: readonly TriggerDefinition[], deps: ScheduleDeps) {
    assertDistinctKinds(kinds);
    this.#kinds = new Map(kinds.map((k) => [k.kind, k]));
    this.#deps = deps;
  }

  kinds(): string[] {
    return [...this.#kinds.keys()].sort();
  }

  /** Validates and stores a schedule. Throws a 400 for an unknown kind, a bad payload or bad cron. */
  schedule(kind: string, payload: unknown, when: When, key?: string): ScheduleView {
    const definition = this.#kinds.get(kind);
    if (!definition) {
      throw new BadRequestError(
        "unknown_trigger_kind",
        `no trigger kind "${kind.slice(0, 64)}"; this server has: ${this.kinds().join(", ") || "(none)"} (define one with defineTrigger and register it with createAgentServer({ triggers }))`,
        { details: { available: this.kinds() } },
      );
    }
    // One line per bad field, as every other body gets (validate).
    const data = validate(definition.payload, payload, `the payload for "${kind}"`);
    const now = this.#deps.clock.now();
    const dueAt =
      "cron" in when
        ? this.#cron()(when.cron, when.timeZone, now)
        : "at" in when
          ? checkedAt(when.at, now)
          : now + when.delayMs;
    const stored: StoredPayload = {
      payload: data,
      ...("cron" in when ? { cron: when.cron } : {}),
      ...("cron" in when && when.timeZone !== undefined ? { timeZone: when.timeZone } : {}),
    };
    const rowKey = `trigger:${key ?? crypto.randomUUID()}`;
    this.#deps.work.schedule(kind, rowKey, stored, dueAt, now);
    return view(this.#deps.work.get(rowKey) as DueItem, now);
  }

  /**
   * Deletes the schedule and records `trigger.cancelled`. A run of it under way
   * has its signal aborted when its kind is `cooperative`; an `ignored` kind's
   * run finishes. Either way its end no longer touches the schedule (the row
   * is gone). Returns false when there is no such schedule.
   */
  cancel(key: string, reason = "cancelled by request"): boolean {
    const item = this.#deps.work.get(`trigger:${key}`);
    if (!item) return false;
    const running = this.#running.get(key);
    const cancellation = this.#kinds.get(item.kind)?.cancellation ?? "cooperative";
    this.#deps.record([
      {
        kind: "trigger.cancelled",
        runId: null,
        data: { kind: item.kind, key, running: running !== undefined, cancellation, reason },
      },
    ]);
    this.#deps.work.cancel(`trigger:${key}`);
    if (running && cancellation === "cooperative") {
      running.cancelled = true;
      running.controller.abort(new TriggerCancelledError(key, reason));
    }
    return true;
  }

  list(): ScheduleView[] {
    const now = this.#deps.clock.now();
    return this.#deps.work
      .list(500)
      .filter((item) => item.key.startsWith("trigger:"))
      .map((item) => view(item, now));
  }

  /** One pump handler per registered kind. */
  handlers(): Map<string, TriggerHandler> {
    const out = new Map<string, TriggerHandler>();
    for (const definition of this.#kinds.values())
      out.set(definition.kind, this.#handler(definition));
    return out;
  }

  /** Records a due row whose kind is not registered (it stays listed, parked). */
  recordUnknown(item: DueItem): void {
    this.#recordFailure(item, {
      code: "unknown_trigger_kind",
      message: `no handler for trigger kind "${item.kind}"; register it with createAgentServer({ triggers }) or cancel the schedule`,
    });
  }

  #recordFailure(item: DueItem, error: ErrorInfo): void {
    this.#deps.record([
      {
        kind: "trigger.failed",
        runId: null,
        data: { kind: item.kind, key: keyOf(item), attempts: item.attempts, error },
      },
    ]);
  }

  #handler(definition: TriggerDefinition): TriggerHandler {
    return {
      run: async (stored, { attempt, item }): Promise<TriggerOutcome> => {
        const { payload, cron, timeZone } = stored as StoredPayload;
        const key = keyOf(item);
        const running: RunningTrigger = { controller: new AbortController(), cancelled: false };
        this.#running.set(key, running);
        const staged = new StagedEffects(null);
        try {
          await definition.run(storedPayload(definition, key, payload), {
            ...this.#deps.context(key, attempt, staged),
            key,
            attempt,
            signal: running.controller.signal,
          });
        } catch (error) {
          // A cancelled run that stops by throwing (its signal's reason, usually) is done: the
          // cancel fact is its record, and there is no row left to retry. What it staged is
          // dropped with it.
          if (!running.cancelled) throw error;
          return { type: "done" };
        } finally {
          if (this.#running.get(key) === running) this.#running.delete(key);
        }
        // Its staged SQL and events commit with the row's outcome: exactly once per run.
        const commit = (settle: () => void) => this.#deps.commit(staged, settle);
        if (cron === undefined || running.cancelled) return { type: "done", commit };
        const at = this.#nextRun(item, cron, timeZone);
        return at === undefined ? { type: "done", commit } : { type: "again", at, commit };
      },
      giveUp: (stored, error, item) => {
        const { cron, timeZone } = stored as StoredPayload;
        this.#recordFailure(item, {
          code: error instanceof DurableAgentsError ? error.code : "trigger_error",
          message: error instanceof Error ? error.message : String(error),
        });
        return cron === undefined ? undefined : this.#nextRun(item, cron, timeZone);
      },
    };
  }

  /** The cron port; without one, a cron schedule is refused with what to pass. */
  #cron(): CronSchedules {
    if (this.#deps.cron) return this.#deps.cron;
    throw new BadRequestError(
      "cron_off",
      "this server takes no cron schedules: pass createAgentServer({ cron: cronSchedules }) with cronSchedules from @durable-agents/core/cron, or schedule with at or delayMs",
    );
  }

  /**
   * A stored cron's next time after a run. Without the cron port (a deploy dropped it) the
   * schedule ends here, and a `trigger.failed` (`cron_off`) says so: never a silent stop.
   */
  #nextRun(item: DueItem, cron: string, timeZone: string | undefined): number | undefined {
    try {
      return this.#cron()(cron, timeZone, this.#deps.clock.now());
    } catch (error) {
      if (!(error instanceof DurableAgentsError) || error.code !== "cron_off") throw error;
      this.#recordFailure(item, {
        code: error.code,
        message: `cron "${cron}" not moved on: ${error.message}`,
      });
      return undefined;
    }
  }
}

/**
 * A stored payload, parsed again by its kind's schema (which may have changed since it was
 * stored). One that no longer fits fails for good: every retry would read the same row.
 */
function storedPayload(definition: TriggerDefinition, key: string, payload: unknown): unknown {
  const parsed = check(definition.payload, payload);
  if (parsed.success) return parsed.data;
  throw new TerminalError(
    "invalid_trigger_payload",
    `schedule "${key}": its stored payload no longer matches the "${definition.kind}" trigger's payload schema (${parsed.summary}); cancel the schedule and create it again with a valid payload`,
  );
}

/** An `at` the session's alarm can wake for: after the epoch, at most 10 years ahead (else a 400). */
function checkedAt(at: number, now: number): number {
  if (!Number.isFinite(at) || at < 1) {
    throw new BadRequestError(
      "invalid_request",
      `"at" must be after 1970-01-01T00:00:00Z (epoch ms 1 or more); a time in the past is due at once`,
    );
  }
  if (at > now + MAX_SCHEDULE_AHEAD_MS) {
    throw new BadRequestError(
      "invalid_request",
      `"at" (epoch ms ${at}) is more than 10 years ahead; schedule it nearer, or with a cron`,
    );
  }
  return at;
}

function keyOf(item: DueItem): string {
  return item.key.replace(/^trigger:/, "");
}

function view(item: DueItem, now: number): ScheduleView {
  const { payload, cron, timeZone } = item.payload as StoredPayload;
  return {
    key: keyOf(item),
    kind: item.kind,
    payload,
    cron: cron ?? null,
    timeZone: cron === undefined ? null : (timeZone ?? "UTC"),
    dueAt: item.dueAt,
    attempts: item.attempts,
    lastError: item.lastError,
    stuck: item.leaseUntil !== null && item.leaseUntil <= now,
  };
}
