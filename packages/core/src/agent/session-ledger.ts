import { AppProjections } from "../app-events/app-projections.ts";
import {
  type AnySubscription,
  assertDistinctSubscriptions,
  subscriptionReactor,
} from "../app-events/subscriptions.ts";
import type { Clock } from "../clock.ts";
import { Ledger } from "../ledger/ledger.ts";
import { SESSION_PROJECTIONS } from "../ledger/projections/index.ts";
import type { RunTracer } from "../tracing/run-tracer.ts";
import { completionHookReactor } from "./completion-hook.ts";
import type { SessionRuntimeOptions } from "./session-runtime-options.ts";
import { subagentRepliesProjection } from "./subagent-replies.ts";

/** A session's ledger, with the application projections it feeds. */
export interface SessionLedger {
  readonly ledger: Ledger;
  /** The application projections: status, rebuild, readers (opened over `ledger`). */
  readonly projections: AppProjections;
  /** The app's `on` subscriptions, checked distinct; their reactor is one of the ledger's. */
  readonly subscriptions: readonly AnySubscription[];
  /** With `tracing`: the run tracer, which follows the ledger its projection is part of. */
  readonly tracer: RunTracer | undefined;
}

/**
 * The ledger of one session and what every append updates in its transaction: the session's
 * projections (SESSION_PROJECTIONS), sub-agent replies, the run tracer's (with `tracing`),
 * the agent's own and the app's; and its reactors, the subscriptions' due work and the
 * onComplete hook's row. With `tracing`, also the run tracer that follows it. Throws when two
 * subscriptions share a name (`assertDistinctSubscriptions`).
 */
export function sessionLedger(options: SessionRuntimeOptions, clock: Clock): SessionLedger {
  const subscriptions = options.subscriptions ?? [];
  assertDistinctSubscriptions(subscriptions);
  const projections = new AppProjections(options.sql, options.appProjections ?? []);
  const ledger = new Ledger(
    options.sql,
    clock,
    [
      ...SESSION_PROJECTIONS,
      subagentRepliesProjection,
      ...(options.tracing ? [options.tracing.runs.projection] : []),
      ...(options.projections ?? []),
      ...projections.ledgerProjections(),
    ],
    [
      ...(subscriptions.length > 0 ? [subscriptionReactor(subscriptions)] : []),
      // The onComplete hook's row commits with each end of a run, whoever appends it.
      ...(options.onComplete ? [completionHookReactor(clock)] : []),
    ],
  );
  projections.open(ledger);
  const tracer = options.tracing
    ? options.tracing.runs.tracer({
        sql: options.sql,
        ledger,
        sessionId: options.sessionId,
        clock,
        ...(options.logger ? { logger: options.logger } : {}),
        waitUntil: options.tracing.waitUntil ?? ((promise) => void promise.catch(() => {})),
      })
    : undefined;
  return { ledger, projections, subscriptions, tracer };
}
