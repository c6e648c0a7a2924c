/** What every transport shares: delivery bookkeeping, parsing, retry decisions. */
import { type Backoff, sleep } from "./backoff.ts";
import {
  abortReason,
  badResponse,
  connectionLost,
  DurableAgentsClientError,
  isRecord,
} from "./errors.ts";
import type { EventsOptions, StreamPosition } from "./event-stream.ts";
import type { HttpContext } from "./http.ts";
import type { LedgerEvent } from "./types.ts";

export interface ReaderState extends StreamPosition {
  /** Offset of the last event yielded. */
  delivered: string | undefined;
}

export type Reader = (
  ctx: HttpContext,
  path: string,
  position: ReaderState,
  options: EventsOptions,
) => AsyncGenerator<LedgerEvent, void, undefined>;

/**
 * Yields the events not yet delivered (invariant 1), one by one, moving the
 * resume position past each as it goes out. Once `signal` aborts, the rest of
 * a batch is not yielded: the reader throws the signal's reason instead.
 */
export function* advance(
  position: ReaderState,
  events: LedgerEvent[],
  signal?: AbortSignal,
): Generator<LedgerEvent> {
  for (const event of events) {
    if (signal?.aborted) throw abortReason(signal);
    if (position.delivered !== undefined && event.offset <= position.delivered) continue;
    position.delivered = event.offset;
    position.offset = event.offset;
    yield event;
  }
}

export function parseEvents(text: string, path: string, status: number): LedgerEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badResponse(`${path} sent data that is not JSON: ${text.slice(0, 200)}`, status);
  }
  return checkEvents(parsed, path, status);
}

/** Checks the shape every transport relies on: an array of events with offset and kind. */
export function checkEvents(value: unknown, path: string, status: number): LedgerEvent[] {
  if (!Array.isArray(value))
    throw badResponse(`${path} sent data that is not a JSON array`, status);
  for (const event of value) {
    if (!isRecord(event) || typeof event.offset !== "string" || typeof event.kind !== "string") {
      throw badResponse(`${path} sent an event without offset or kind`, status);
    }
  }
  return value as LedgerEvent[];
}

/** Decides after a failure: rethrow aborts and terminal errors, else wait for the next try. */
export async function retryOrThrow(
  ctx: HttpContext,
  error: unknown,
  backoff: Backoff,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (signal?.aborted) throw abortReason(signal);
  // Typed errors come from `send` (no response); anything else broke an open stream.
  const typed =
    error instanceof DurableAgentsClientError ? error : connectionLost(ctx.baseUrl, error);
  if (!typed.retryable) throw typed;
  await backoff.wait(typed, signal);
}

/** Shortest time between two connections that delivered no new events. */
export const IDLE_RECONNECT_MS = 1_000;

/**
 * A connection that closed cleanly without new events is the server cycling
 * an idle stream; reconnecting is right, but a server or proxy that closes
 * at once must not turn that into a hot loop. Never counts as a failure.
 */
export async function paceIdleReconnect(
  openedAt: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const wait = IDLE_RECONNECT_MS - (Date.now() - openedAt);
  if (wait > 0) await sleep(wait, signal);
}
