import type { ToolEffect } from "../ledger/events.ts";

/**
 * Where a step waits for its writes to be durable (`RunDriverOptions.durable`, DO:
 * `storage.sync()`, ~1 ms each): only before a side effect that must not happen unless the
 * ledger already records it (docs/guarantees.md G3). Nowhere else: a write that a crash loses
 * before it is durable was never acknowledged to anyone (output gates hold every response until
 * the writes before it are durable, G1), and the step machine redoes the lost action from the
 * projections (G2), e.g. a lost `step.completed` is written again by the redriven step.
 *
 * So there is no wait after a step commits: what follows it is the next step's model call,
 * which a crash already repeats as attempt + 1 whether or not `step.completed` was durable.
 */

/** What starting a step's tool calls sends out, for `startNeedsDurability`. */
export interface ToolStart {
  /** The declared effect of each call about to start (an unknown tool counts as irreversible). */
  readonly effects: readonly ToolEffect[];
  /** Calls handed to a sub-agent session (outbox messages committed with `tool.started`). */
  readonly delegated: number;
  /** Calls started as Workflow instances (outbox rows committed with `tool.started`). */
  readonly launched: number;
}

/**
 * Whether the `tool.started` events just committed must be durable before the tools run.
 * A `pure` tool has no side effect to guard: redriven, it simply runs again (G3), so a step
 * whose calls are all pure and inline does not wait. Any `idempotent` or `irreversible` call,
 * and any delegated or Workflow call (its start message leaves the object), does.
 */
export function startNeedsDurability(start: ToolStart): boolean {
  return (
    start.delegated > 0 || start.launched > 0 || start.effects.some((effect) => effect !== "pure")
  );
}

/**
 * Whether a call's committed result must be durable before the step goes on: an
 * `irreversible` call's, because losing it would leave the call's outcome unknown (a human has
 * to settle it) although it ran. A pure or idempotent call's lost result is redone by running
 * the call again.
 */
export function resultNeedsDurability(effect: ToolEffect): boolean {
  return effect === "irreversible";
}
