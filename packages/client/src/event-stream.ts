/**
 * Follows a session ledger as a Durable Stream in JSON mode (PROTOCOL.md
 * 5.6-5.8), over SSE (default), long-poll, or catch-up reads.
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
 * 5. A clean SSE close without `streamClosed` is the server's periodic
 *    cycling: reconnect at once if the connection made progress (a new
 *    event or a control event), else back off.
 */
import { type Backoff, createBackoff, type RetryPolicy } from "./backoff.ts";
import {
  abortReason,
  badResponse,
  DurableAgentsClientError,
  isRecord,
  networkError,
} from "./errors.ts";
import { type HttpContext, readText, send } from "./http.ts";
import { readSse } from "./sse-parser.ts";
import type { LedgerEvent } from "./types.ts";

export type EventsTransport = "sse" | "long-poll" | "catch-up";

export interface EventsOptions {
  /** Where to start: an offset from an event, `"-1"` (start, default) or `"now"` (tail). */
  readonly offset?: string;
  /**
   * `"sse"` (default) and `"long-poll"` follow live until the stream closes or
   * the signal aborts; `"catch-up"` ends once it has read everything so far.
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

export function openEventStream(
  ctx: HttpContext,
  path: string,
  options: EventsOptions = {},
): EventStream {
  const position: ReaderState = {
    offset: options.offset ?? "-1",
    upToDate: false,
    closed: false,
    delivered: undefined,
  };
  const read = READERS[options.transport ?? "sse"];
  return {
    get position() {
      const { offset, upToDate, closed } = position;
      return { offset, upToDate, closed };
    },
    [Symbol.asyncIterator]: () => read(ctx, path, position, options),
  };
}

interface ReaderState extends StreamPosition {
  /** Offset of the last event yielded. */
  delivered: string | undefined;
}

type Reader = (
  ctx: HttpContext,
  path: string,
  position: ReaderState,
  options: EventsOptions,
) => AsyncGenerator<LedgerEvent, void, undefined>;

async function* readSseLive(
  ctx: HttpContext,
  path: string,
  position: ReaderState,
  options: EventsOptions,
): AsyncGenerator<LedgerEvent, void, undefined> {
  const { signal } = options;
  const backoff = createBackoff(options.retry);
  for (;;) {
    let progressed = false;
    try {
      const response = await send(ctx, path, {
        query: { offset: position.offset, live: "sse" },
        headers: { accept: "text/event-stream" },
        signal,
      });
      const type = response.headers.get("content-type") ?? "";
      if (!type.includes("text/event-stream") || response.body === null) {
        throw badResponse(`expected an SSE stream from ${path}, got "${type}"`, response.status);
      }
      for await (const message of readSse(response.body)) {
        if (message.event === "data") {
          const before = position.delivered;
          yield* advance(position, parseEvents(message.data, path, response.status));
          if (position.delivered !== before) {
            progressed = true;
            backoff.reset();
          }
        } else if (message.event === "control") {
          applyControl(position, message.data, path, response.status);
          progressed = true;
          backoff.reset();
          if (position.closed) return;
        }
      }
    } catch (error) {
      await retryOrThrow(ctx, error, backoff, signal);
      continue;
    }
    if (!progressed) {
      const error = new DurableAgentsClientError(
        "network_error",
        `${ctx.baseUrl} closed the event stream before sending anything`,
        { status: 0 },
      );
      await retryOrThrow(ctx, error, backoff, signal);
    }
  }
}

async function* readPolling(
  ctx: HttpContext,
  path: string,
  position: ReaderState,
  options: EventsOptions,
): AsyncGenerator<LedgerEvent, void, undefined> {
  const { signal } = options;
  const live = options.transport === "long-poll";
  const backoff = createBackoff(options.retry);
  for (;;) {
    let batch: LedgerEvent[];
    let nextOffset: string;
    let headers: Headers;
    try {
      const query = { offset: position.offset, live: live ? "long-poll" : undefined };
      const response = await send(ctx, path, { query, signal });
      const text = response.status === 204 ? "" : await readText(ctx, response, signal);
      batch = text.trim() === "" ? [] : parseEvents(text, path, response.status);
      headers = response.headers;
      const next = headers.get("stream-next-offset");
      if (next === null) {
        throw badResponse(`${path} answered without a Stream-Next-Offset header`, response.status);
      }
      nextOffset = next;
      backoff.reset();
    } catch (error) {
      await retryOrThrow(ctx, error, backoff, signal);
      continue;
    }
    yield* advance(position, batch);
    position.offset = nextOffset;
    if (headers.get("stream-up-to-date") === "true") position.upToDate = true;
    if (headers.get("stream-closed") === "true") position.closed = true;
    if (position.closed) return;
    if (!live && position.upToDate) return;
  }
}

/**
 * Yields the events not yet delivered (invariant 1), one by one, moving the
 * resume position past each as it goes out.
 */
function* advance(position: ReaderState, events: LedgerEvent[]): Generator<LedgerEvent> {
  for (const event of events) {
    if (position.delivered !== undefined && event.offset <= position.delivered) continue;
    position.delivered = event.offset;
    position.offset = event.offset;
    yield event;
  }
}

const READERS: Record<EventsTransport, Reader> = {
  sse: readSseLive,
  "long-poll": readPolling,
  "catch-up": readPolling,
};

function parseEvents(text: string, path: string, status: number): LedgerEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badResponse(`${path} sent data that is not JSON: ${text.slice(0, 200)}`, status);
  }
  if (!Array.isArray(parsed))
    throw badResponse(`${path} sent data that is not a JSON array`, status);
  for (const event of parsed) {
    if (!isRecord(event) || typeof event.offset !== "string" || typeof event.kind !== "string") {
      throw badResponse(`${path} sent an event without offset or kind`, status);
    }
  }
  return parsed as LedgerEvent[];
}

function applyControl(position: StreamPosition, data: string, path: string, status: number): void {
  let control: unknown;
  try {
    control = JSON.parse(data);
  } catch {
    control = undefined;
  }
  if (!isRecord(control) || typeof control.streamNextOffset !== "string") {
    throw badResponse(`${path} sent a control event without streamNextOffset`, status);
  }
  position.offset = control.streamNextOffset;
  if (control.upToDate === true) position.upToDate = true;
  if (control.streamClosed === true) {
    position.closed = true;
    position.upToDate = true;
  }
}

/** Decides after a failure: rethrow aborts and terminal errors, else wait for the next try. */
async function retryOrThrow(
  ctx: HttpContext,
  error: unknown,
  backoff: Backoff,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (signal?.aborted) throw abortReason(signal);
  const typed =
    error instanceof DurableAgentsClientError ? error : networkError(ctx.baseUrl, error);
  if (!typed.retryable) throw typed;
  await backoff.wait(typed, signal);
}
