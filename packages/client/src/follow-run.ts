import type { EventsOptions } from "./event-stream.ts";
import type { AgentSession } from "./session.ts";
import { isTerminalEvent, type LedgerEvent } from "./types.ts";

/** The event a followed run stops at: terminal, or `run.waiting` (paused for a human). */
export type RunEndEvent = Extract<
  LedgerEvent,
  { kind: "run.completed" | "run.failed" | "run.interrupted" | "run.aborted" | "run.waiting" }
>;

export interface FollowRunOptions extends Omit<EventsOptions, "offset"> {
  readonly runId: string;
  /** Offset to read from: `RunStarted.offset`, or a status offset taken before a resume. */
  readonly offset: string;
}

export function isRunEnd(event: LedgerEvent): event is RunEndEvent {
  return isTerminalEvent(event) || event.kind === "run.waiting";
}

/**
 * Yields the events of one run, live, and stops after the event that ends or
 * pauses it. Events of other runs are skipped; session-level events
 * (`runId: null`) pass through.
 *
 * @example
 * const run = await session.start("What is 2+3?");
 * for await (const event of followRun(session, run)) render(event);
 */
export async function* followRun(
  session: AgentSession,
  options: FollowRunOptions,
): AsyncGenerator<LedgerEvent, RunEndEvent | undefined, undefined> {
  const { runId, ...events } = options;
  for await (const event of session.events(events)) {
    if (event.runId !== runId && event.runId !== null) continue;
    yield event;
    if (event.runId === runId && isRunEnd(event)) return event;
  }
  return undefined;
}

/** Follows a run to its end and returns the ending event (undefined if the stream closed first). */
export async function waitForRun(
  session: AgentSession,
  options: FollowRunOptions,
): Promise<RunEndEvent | undefined> {
  const iterator = followRun(session, options);
  for (;;) {
    const next = await iterator.next();
    if (next.done) return next.value;
  }
}
