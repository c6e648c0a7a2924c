/**
 * Follows a session ledger as a Durable Stream in JSON mode (PROTOCOL.md
 * 5.6-5.8), over SSE (default), long-poll, or catch-up reads; or over the
 * session WebSocket.
 *
 * Invariants:
 * 1. Exactly once, in order: an event is yielded only if its offset sorts
 *    after the last yielded one. Replays after a reconnect are dropped here.
 * 2. Reconnects resume from the latest position the server gave: the
 *    `streamNextOffset` of a control event (or `Stream-Next-Offset` header),
 *    or the `offset` of an event delivered after it, whichever came last. An
 *    event's offset is a read position; if a server re-sends the event at
 *    that position, invariant 1 drops it, so a drop between a data event and
 *    its control event neither loses nor repeats anything.
 * 3. `streamClosed` / `Stream-Closed` ends the iteration; nothing reconnects
 *    after it (PROTOCOL.md 5.8, Connection Lifecycle).
 * 4. Network failures and retryable statuses back off and retry; a
 *    connection that makes progress resets the backoff. Other 4xx errors
 *    and protocol violations are thrown at once.
 * 5. A clean close without `streamClosed` is the server's periodic
 *    cycling: reconnect at once if the connection delivered new events;
 *    if it delivered only control, reconnect no sooner than 1 s after it
 *    opened (no hot loop, never gives up); if it sent nothing, back off.
 */
import type { RetryPolicy } from "./backoff.ts";
import type { HttpContext } from "./http.ts";
import { readPolling } from "./read-polling.ts";
import { readSseLive } from "./read-sse.ts";
import { readWebSocket } from "./read-websocket.ts";
import type { Reader, ReaderState } from "./reader-kit.ts";
import type { LedgerEvent } from "./types.ts";

export type EventsTransport = "sse" | "ws" | "long-poll" | "catch-up";

export interface EventsOptions {
  /** Where to start: an offset from an event, `"-1"` (start, default) or `"now"` (tail). */
  readonly offset?: string;
  /**
   * `"sse"` (default), `"ws"` and `"long-poll"` follow live until the stream
   * closes or the signal aborts; `"catch-up"` ends once it has read
   * everything so far.
   */
  readonly transport?: EventsTransport;
  readonly signal?: AbortSignal;
  readonly retry?: RetryPolicy;
}

/** Where a reader stands; updated as events arrive. */
export interface StreamPosition {
  /** The offset to resume from: the last offset the server confirmed. */
  offset: string;
  /** True once the reader has caught up with the tail at least once. */
  upToDate: boolean;
  /** True once the server said no more events will ever come. */
  closed: boolean;
}

/** An async iterable of ledger events that also tells where it stands. */
export interface EventStream extends AsyncIterable<LedgerEvent> {
  readonly position: Readonly<StreamPosition>;
}

/** Opens a reader on the session at `sessionPath` (`/agents/:agent/:session`). */
export function openEventStream(
  ctx: HttpContext,
  sessionPath: string,
  options: EventsOptions = {},
): EventStream {
  const position: ReaderState = {
    offset: options.offset ?? "-1",
    upToDate: false,
    closed: false,
    delivered: undefined,
  };
  const { route, read } = READERS[options.transport ?? "sse"];
  return {
    get position() {
      const { offset, upToDate, closed } = position;
      return { offset, upToDate, closed };
    },
    [Symbol.asyncIterator]: () => read(ctx, sessionPath + route, position, options),
  };
}

const READERS: Record<EventsTransport, { route: string; read: Reader }> = {
  sse: { route: "/events", read: readSseLive },
  ws: { route: "/ws", read: readWebSocket },
  "long-poll": { route: "/events", read: readPolling },
  "catch-up": { route: "/events", read: readPolling },
};
