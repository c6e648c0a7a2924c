import type { Clock } from "../clock.ts";
import { BadRequestError } from "../errors/http-errors.ts";
import type { LedgerEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { decodeOffset, encodeOffset } from "../ledger/offset.ts";
import { formatSse, SSE_HEADERS } from "../wire/sse.ts";

/** Timing of live reads. Tests use short windows; production defaults are in docs/limits.md. */
import { liveSse } from "./live-sse.ts";

export interface LiveReadOptions {
  /** How long a long-poll waits for a new event before answering 204. */
  readonly longPollMs: number;
  /** How long one SSE response stays open before the server closes it (clients reconnect). */
  readonly sseMaxMs: number;
  /** Interval of SSE keep-alive comments. */
  readonly keepAliveMs: number;
  readonly maxEvents: number;
}

export const DEFAULT_LIVE_READ: LiveReadOptions = {
  longPollMs: 30_000,
  sseMaxMs: 60_000,
  keepAliveMs: 15_000,
  maxEvents: 1000,
};

/** An event as served to clients: the stored event plus its offset. */
export type WireEvent = LedgerEvent & { offset: string };

export function toWire(event: LedgerEvent): WireEvent {
  return { ...event, offset: encodeOffset(event.seq) };
}

/**
 * `GET .../events`: the ledger with Durable Streams JSON-mode read semantics
 * (catch-up, `live=long-poll`, `live=sse`; `Stream-Next-Offset`,
 * `Stream-Up-To-Date`, `Stream-Cursor`). SSE also accepts `Last-Event-ID`.
 */
export async function readLedger(
  request: Request,
  ledger: Ledger,
  clock: Clock,
  options: LiveReadOptions,
): Promise<Response> {
  const url = new URL(request.url);
  const live = url.searchParams.get("live");
  if (live !== null && live !== "long-poll" && live !== "sse") {
    throw new BadRequestError(
      "invalid_live_mode",
      `live="${live.slice(0, 20)}" is not supported; use live=long-poll or live=sse, or omit it`,
    );
  }
  const offsetParam =
    url.searchParams.get("offset") ??
    (live === "sse" ? request.headers.get("last-event-id") : null);
  const after = decodeOffset(offsetParam, ledger.tail);
  if (live === "sse") return sse(request, ledger, clock, options, after);
  const events = ledger.read(after, options.maxEvents);
  if (events.length === 0 && live === "long-poll") {
    // At the end of a closed session there is nothing to wait for: answer EOF at once.
    const arrived =
      !ledger.closed &&
      (await waitForAppend(ledger, after, options.longPollMs, request.signal, clock));
    if (!arrived)
      return new Response(null, { status: 204, headers: readHeaders(ledger, after, after, clock) });
    return jsonRead(ledger, after, ledger.read(after, options.maxEvents), clock);
  }
  return jsonRead(ledger, after, events, clock);
}

function jsonRead(ledger: Ledger, after: number, events: LedgerEvent[], clock: Clock): Response {
  const next = events.at(-1)?.seq ?? after;
  return new Response(JSON.stringify(events.map(toWire)), {
    headers: { "content-type": "application/json", ...readHeaders(ledger, after, next, clock) },
  });
}

function readHeaders(
  ledger: Ledger,
  after: number,
  next: number,
  clock: Clock,
): Record<string, string> {
  const headers: Record<string, string> = {
    "stream-next-offset": encodeOffset(next),
    "stream-cursor": cursor(clock),
    "cache-control": "no-store",
    etag: `"ledger:${encodeOffset(after)}:${encodeOffset(next)}"`,
  };
  if (next >= ledger.tail) {
    headers["stream-up-to-date"] = "true";
    // A closed session is the end of the stream (Durable Streams EOF).
    if (ledger.closed) headers["stream-closed"] = "true";
  }
  return headers;
}

/** Time-bucketed cursor for CDN request collapsing (Durable Streams §10.1). */
function cursor(clock: Clock): string {
  return String(Math.floor(clock.now() / 20_000));
}

function waitForAppend(
  ledger: Ledger,
  after: number,
  ms: number,
  signal: AbortSignal,
  clock: Clock,
): Promise<boolean> {
  if (ledger.tail > after) return Promise.resolve(true);
  return new Promise((resolve) => {
    const stop = new AbortController();
    const finish = (arrived: boolean) => {
      unsubscribe();
      stop.abort();
      resolve(arrived);
    };
    const unsubscribe = ledger.onAppend(() => finish(true));
    signal.addEventListener("abort", () => finish(false), { once: true });
    clock.sleep(ms, stop.signal).then(
      () => finish(false),
      () => undefined,
    );
  });
}

function sse(
  request: Request,
  ledger: Ledger,
  clock: Clock,
  options: LiveReadOptions,
  after: number,
): Response {
  let sent = after;
  return liveSse({
    request,
    ledger,
    clock,
    keepAliveMs: options.keepAliveMs,
    maxMs: options.sseMaxMs,
    headers: SSE_HEADERS,
    // A reader already at the tail learns where it stands (and, at a closed end, that it is EOF).
    first: sent === ledger.tail ? control(ledger, sent, clock) : undefined,
    next: () => {
      const frame = dataFrame(ledger, sent, options.maxEvents);
      if (frame) sent = frame.next;
      const end = ledger.closed && sent >= ledger.tail;
      return frame
        ? { text: frame.text + control(ledger, sent, clock), end }
        : end
          ? { text: "", end }
          : undefined;
    },
  });
}

/** The last data frame built per ledger: SSE readers at the same offset share it (fan-out). */
const lastFrames = new WeakMap<Ledger, { after: number; next: number; text: string }>();

function dataFrame(
  ledger: Ledger,
  after: number,
  maxEvents: number,
): { next: number; text: string } | undefined {
  const cached = lastFrames.get(ledger);
  if (cached?.after === after && cached.next === ledger.tail) return cached;
  const events = ledger.read(after, maxEvents);
  const last = events.at(-1);
  if (!last) return undefined;
  const text = formatSse({ event: "data", data: JSON.stringify(events.map(toWire)) });
  const frame = { after, next: last.seq, text };
  lastFrames.set(ledger, frame);
  return frame;
}

function control(ledger: Ledger, sent: number, clock: Clock): string {
  const body: Record<string, unknown> = {
    streamNextOffset: encodeOffset(sent),
    streamCursor: cursor(clock),
  };
  if (sent >= ledger.tail) body.upToDate = true;
  if (sent >= ledger.tail && ledger.closed) {
    body.streamClosed = true;
    delete body.streamCursor;
  }
  return formatSse({ event: "control", id: encodeOffset(sent), data: JSON.stringify(body) });
}
