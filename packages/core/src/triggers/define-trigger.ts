import type { z } from "zod";

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

/** Reserved for the runtime's own due work. */
export const RESERVED_KINDS: ReadonlySet<string> = new Set(["run.step", "hook.on_complete"]);

/**
 * Declares an application trigger kind, registered with
 * `createAgentServer({ triggers })` and scheduled with `POST .../schedules`.
 * @example
 * defineTrigger({ kind: "daily-digest", payload: z.object({}), run: (_, ctx) => ctx.startRun("Write the digest") })
 */
export function defineTrigger<Payload>(
  definition: TriggerDefinition<Payload>,
): TriggerDefinition<Payload> {
  if (!/^[a-z][a-z0-9_.-]{0,63}$/.test(definition.kind) || RESERVED_KINDS.has(definition.kind)) {
    throw new TypeError(
      `trigger kind "${definition.kind}" must be 1-64 lowercase letters, digits, _ . or - and not ${[...RESERVED_KINDS].join(", ")}`,
    );
  }
  return definition;
}
