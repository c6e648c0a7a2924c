import type { StagedAppContext } from "../app-events/app-context.ts";
import type { Schema } from "../validation/check.ts";

/**
 * What an application trigger's `run` gets. Besides these, the session's SQL
 * (`transaction`: staged, committed with the run's completion; `query`), `emit`,
 * `projection` and `schedule` (see `StagedAppContext`).
 */
export interface TriggerContext extends StagedAppContext {
  readonly sessionId: string;
  /** The schedule's key (stable across its runs). */
  readonly key: string;
  /** 1 for the first try of this occurrence, then 2, 3, … on retries. */
  readonly attempt: number;
  readonly env: Record<string, unknown>;
  /**
   * Aborted when the schedule is cancelled while this run is under way (kinds
   * whose `cancellation` is `cooperative`); its reason is a `TriggerCancelledError`.
   */
  readonly signal: AbortSignal;
  /** Starts a run of the session's agent, unless one is already active (then returns undefined). */
  startRun(message: string): Promise<{ runId: string } | undefined>;
}

export type TriggerCancellation = "cooperative" | "ignored";

export interface TriggerDefinition<Payload = unknown> {
  /** Stored in due-work rows instead of a method name; renaming a handler keeps its rows. */
  readonly kind: string;
  /** Validates the payload when a schedule is created and again when it runs (classic zod or `zod/mini`). */
  readonly payload: Schema<Payload>;
  /**
   * What cancelling the schedule does to a run under way: `cooperative` (the
   * default) aborts `ctx.signal` and the run should stop; `ignored` lets it
   * finish (for work that must not stop halfway). Either way the schedule is
   * gone and a `trigger.cancelled` event records it.
   */
  readonly cancellation?: TriggerCancellation;
  run(payload: Payload, ctx: TriggerContext): Promise<void> | void;
}

/**
 * Namespaces of the runtime's own due work (`run.step`, `hook.on_complete`, `subagent.send`,
 * `workflow.create`, `outbox.deliver`, ...). An application kind in one of them would be
 * routed to the runtime's handler instead of its own, so they are refused.
 */
export const RESERVED_PREFIXES: readonly string[] = [
  "run.",
  "hook.",
  "subagent.",
  "workflow.",
  "outbox.",
];

export function isReservedKind(kind: string): boolean {
  return RESERVED_PREFIXES.some((prefix) => kind.startsWith(prefix));
}

/**
 * Declares an application trigger kind, registered with
 * `createAgentServer({ triggers })` and scheduled with `POST .../schedules`.
 * @example
 * defineTrigger({ kind: "daily-digest", payload: z.object({}), run: (_, ctx) => ctx.startRun("Write the digest") })
 */
export function defineTrigger<Payload>(
  definition: TriggerDefinition<Payload>,
): TriggerDefinition<Payload> {
  if (!/^[a-z][a-z0-9_.-]{0,63}$/.test(definition.kind) || isReservedKind(definition.kind)) {
    throw new TypeError(
      `trigger kind "${definition.kind}" must be 1-64 lowercase letters, digits, _ . or - and not start with ${RESERVED_PREFIXES.join(", ")}: those are reserved for the runtime's own due work`,
    );
  }
  if (
    definition.cancellation !== undefined &&
    definition.cancellation !== "cooperative" &&
    definition.cancellation !== "ignored"
  ) {
    throw new TypeError(
      `trigger kind "${definition.kind}": cancellation must be "cooperative" or "ignored"`,
    );
  }
  return definition;
}

/**
 * Refuses two definitions of one kind: rows name a kind, so only one handler
 * can own it. `createAgentServer` calls this when it is created (at start), and
 * every session's registry again.
 */
export function assertDistinctKinds(definitions: readonly TriggerDefinition[]): void {
  const seen = new Set<string>();
  for (const { kind } of definitions) {
    if (seen.has(kind)) {
      throw new TypeError(
        `trigger kind "${kind}" is registered twice in createAgentServer({ triggers }); each kind needs exactly one definition`,
      );
    }
    seen.add(kind);
  }
}
