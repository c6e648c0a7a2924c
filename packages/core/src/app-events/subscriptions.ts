import type { FaultInjector } from "../agent/faults.ts";
import { ON_EVENT_KIND, type OnEventPayload, scheduleRuntimeWork } from "../agent/runtime-work.ts";
import type { Clock } from "../clock.ts";
import type { AppEventKind, NewEvent } from "../ledger/events.ts";
import type { Ledger, Reactor } from "../ledger/ledger.ts";
import type { Logger } from "../logger.ts";
import type { SqlPort } from "../sql/port.ts";
import type { TriggerHandler, TriggerOutcome } from "../triggers/pump.ts";
import type { StagedAppContext } from "./app-context.ts";
import type { AnyAppEvent } from "./define-event.ts";
import type { AppEventOf } from "./define-projection.ts";
import { StagedEffects } from "./staged.ts";

/**
 * `on(event, handler)`: app code that answers application events, as due work.
 *
 * Invariants:
 * 1. For each new event of a subscribed kind, one due row per subscription
 *    (`on:<name>:<seq>`, kind `hook.on_event`) is written in the event's own append
 *    transaction (a ledger reactor): a crash loses neither or both. Copied history (a fork)
 *    and rebuilds write none.
 * 2. Delivery is at least once, with `idempotencyKey = <agent>/<session>/<name>/<seq>`, the
 *    same on every delivery. The handler's events and SQL writes are staged and commit with
 *    the row's completion, so they happen once even when the handler runs twice.
 * 3. A handler that keeps failing ends as `trigger.failed` after the pump's retries.
 */

/** What an `on` handler gets besides the event. */
export interface AppEventHandlerContext extends StagedAppContext {
  readonly agent: string;
  readonly sessionId: string;
  /** `<agent>/<session>/<subscription>/<seq>`: the same on every delivery of this event. */
  readonly idempotencyKey: string;
  /** 1 on the first delivery, then 2, 3, … */
  readonly attempt: number;
  readonly env: Record<string, unknown>;
}

export interface Subscription<E extends AnyAppEvent = AnyAppEvent> {
  /** Names its due rows (`on:<name>:<seq>`); unique per server. Default: the event's kind. */
  readonly name: string;
  readonly event: E;
  readonly handle: (event: AppEventOf<E>, ctx: AppEventHandlerContext) => Promise<void> | void;
}

// biome-ignore lint/suspicious/noExplicitAny: each subscription handles its own event
export type AnySubscription = Subscription<any>;

/**
 * Subscribes app code to an application event; register it with
 * `createAgentServer({ subscriptions })`. Delivery is at least once (see invariants).
 * @example
 * on(noteAdded, async (event, ctx) => { await notify(event.payload.text, ctx.idempotencyKey) })
 */
export function on<E extends AnyAppEvent>(
  event: E,
  handle: Subscription<E>["handle"],
  options: { readonly name?: string } = {},
): Subscription<E> {
  const name = options.name ?? event.name;
  if (!/^[a-z][a-z0-9_.-]{0,63}$/.test(name))
    throw new TypeError(
      `subscription name "${name}" must be 1-64 lowercase letters, digits, _ . or -`,
    );
  return { name, event, handle };
}

/** Refuses two subscriptions of one name (their rows would share keys). */
export function assertDistinctSubscriptions(subscriptions: readonly AnySubscription[]): void {
  const seen = new Set<string>();
  for (const { name } of subscriptions) {
    if (seen.has(name))
      throw new TypeError(
        `two subscriptions are named "${name}" in createAgentServer({ subscriptions }); give one of them on(event, handler, { name })`,
      );
    seen.add(name);
  }
}

/** Writes the due rows of invariant 1. */
export function subscriptionReactor(subscriptions: readonly AnySubscription[]): Reactor {
  return (sql, event) => {
    for (const s of subscriptions) {
      if (s.event.kind !== event.kind) continue;
      const payload: OnEventPayload = { subscription: s.name, seq: event.seq };
      scheduleRuntimeWork(
        sql,
        ON_EVENT_KIND,
        `on:${s.name}:${event.seq}`,
        payload,
        event.ts,
        event.ts,
      );
    }
  };
}

export interface SubscriptionDeps {
  readonly sql: SqlPort;
  readonly ledger: Ledger;
  readonly agent: string;
  readonly sessionId: string;
  readonly env: Record<string, unknown>;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly faults?: FaultInjector;
  /** The app context pieces for a unit whose effects are `staged`. */
  readonly context: (staged: StagedEffects) => StagedAppContext;
}

/** The pump handler of `hook.on_event` (invariant 2). */
export function subscriptionHandler(
  subscriptions: readonly AnySubscription[],
  deps: SubscriptionDeps,
): TriggerHandler<OnEventPayload> {
  const byName = new Map(subscriptions.map((s) => [s.name, s]));
  return {
    async run({ subscription, seq }, { attempt }): Promise<TriggerOutcome> {
      const s = byName.get(subscription);
      const event = deps.ledger.read(seq - 1, 1)[0];
      if (!s || !event || event.kind !== s.event.kind) {
        deps.logger.warn("an on() delivery found no such subscription or event; skipped", {
          subscription,
          seq,
        });
        return { type: "done" };
      }
      const staged = new StagedEffects(null);
      await s.handle(
        {
          seq: event.seq,
          runId: event.runId,
          kind: event.kind as AppEventKind,
          payload: event.data,
          ts: event.ts,
        },
        {
          ...deps.context(staged),
          agent: deps.agent,
          sessionId: deps.sessionId,
          idempotencyKey: `${deps.agent}/${deps.sessionId}/${subscription}/${seq}`,
          attempt,
          env: deps.env,
        },
      );
      await deps.faults?.("before-handler-commit", {
        sessionId: deps.sessionId,
        runId: event.runId ?? "",
        step: 0,
      });
      return { type: "done", commit: (settle) => staged.commit(deps.ledger, deps.sql, settle) };
    },
    giveUp({ subscription, seq }, error, item) {
      const message = error instanceof Error ? error.message : String(error);
      deps.logger.error(`on() handler "${subscription}" gave up on seq ${seq}: ${message}`, {
        attempts: item.attempts,
      });
      if (deps.ledger.closed) return undefined;
      const failed: NewEvent = {
        kind: "trigger.failed",
        runId: null,
        data: {
          kind: ON_EVENT_KIND,
          key: item.key,
          attempts: item.attempts,
          error: { code: errorCode(error), message },
        },
      };
      deps.ledger.append([failed]);
      return undefined;
    },
  };
}

function errorCode(error: unknown): string {
  return typeof error === "object" &&
    error !== null &&
    "code" in error &&
    typeof error.code === "string"
    ? error.code
    : "handler_failed";
}
