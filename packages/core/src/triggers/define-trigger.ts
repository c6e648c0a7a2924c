import type * as z from "zod";

/** What an application trigger's `run` gets. */
export interface TriggerContext {
  readonly sessionId: string;
  /** The schedule's key (stable across its runs). */
  readonly key: string;
  /** 1 for the first try of this occurrence, then 2, 3, … on retries. */
  readonly attempt: number;
  readonly env: Record<string, unknown>;
  /** Starts a run of the session's agent, unless one is already active (then returns undefined). */
  startRun(message: string): Promise<{ runId: string } | undefined>;
}

export interface TriggerDefinition<Payload = unknown> {
  /** Stored in due-work rows instead of a method name; renaming a handler keeps its rows. */
  readonly kind: string;
  readonly payload: z.ZodType<Payload>;
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
  return definition;
}
