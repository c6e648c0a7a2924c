/**
 * A session ledger as a `StreamReadSource`, so `GET .../events` is served by the same reader
 * as `/v1/stream/*` (`serveStreamRead`), and the AG-UI and UI message projections ride the
 * same live loop (`http/projected-sse.ts`).
 *
 * Invariants:
 * 1. Positions are seq; the offset after event `seq` is `seq` in 16 digits (`ledger/offset.ts`).
 * 2. The stream is closed once `session.closed` is appended (ledger invariant 4).
 * 3. A read is one chunk: up to `maxEvents` events, stopping once `maxBytes` is reached (at
 *    least one event). Readers that read from the same position with the same `maxEvents` and
 *    `maxBytes` while the tail has not moved get the same chunk object, so its serialized SSE
 *    frame is built once (bench/fanout.ts); a reader with other limits never gets another's.
 */
import type { Clock } from "../clock.ts";
import type { LedgerEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { decodeOffset, encodeOffset } from "../ledger/offset.ts";
import { toWire } from "../ledger/wire-event.ts";
import { takeUntilBudget } from "./budget.ts";
import { isJsonContentType } from "./content-type.ts";
import { DEFAULT_DELIVERY_WINDOW_MS, deliveryWindow } from "./delivery-window.ts";
import type { ReadChunk, StreamReadOptions, StreamReadSource } from "./read/read-source.ts";
import { serveStreamRead } from "./read/serve-stream-read.ts";

/** Timing of live reads. Tests use short windows; production defaults are in docs/limits.md. */
export interface LiveReadOptions {
  /** How long a long-poll waits for a new event before answering 204. */
  readonly longPollMs: number;
  /** How long one SSE response stays open before the server closes it (clients reconnect). */
  readonly sseMaxMs: number;
  /** Interval of SSE keep-alive comments on an idle response. */
  readonly keepAliveMs: number;
  /** Events in one read: a catch-up or long-poll body, an SSE data event, a WebSocket batch. */
  readonly maxEvents: number;
  /**
   * The delivery window, in ms: every live connection of a session (WebSocket, `live=sse`,
   * `live=long-poll`, AG-UI, UI stream) is sent at most once per window, everything since its
   * last send in one write (streams/delivery-window.ts). 0 sends on every append.
   */
  readonly windowMs: number;
  /**
   * An SSE reader that has not taken its last write after this long is ended; its client
   * resumes from the offset of the last write it took. Nothing more is read for it meanwhile,
   * so a slow reader holds at most one write in the object and never slows the run. A
   * WebSocket that stays at its `wsWindowBytes` this long without an ack is closed (4008) the
   * same way.
   */
  readonly stallMs: number;
  /**
   * Flow control of the session WebSocket, in bytes (UTF-8 of `events` frames): a socket is sent
   * at most this much that its client has not acknowledged (`{"type":"ack","offset"}`); at the
   * window it gets nothing more until it acks, and after `stallMs` it is closed (docs/delivery.md).
   */
  readonly wsWindowBytes: number;
}

export const DEFAULT_LIVE_READ: LiveReadOptions = {
  longPollMs: 30_000,
  sseMaxMs: 60_000,
  keepAliveMs: 15_000,
  maxEvents: 1000,
  windowMs: DEFAULT_DELIVERY_WINDOW_MS,
  stallMs: 30_000,
  wsWindowBytes: 1024 * 1024,
};

/** Bytes of one read (besides `maxEvents`): a read stops after the event that reaches it. */
const MAX_READ_BYTES = 1024 * 1024;

/** A ledger read: the events, and their JSON array members as served (`data`). */
export interface LedgerChunk extends ReadChunk {
  readonly events: readonly LedgerEvent[];
}

/** How a ledger's events become stream messages. `/events` serves each event with its offset. */
export interface LedgerCodec {
  readonly contentType: string;
  /** One event's message; JSON streams: one serialized JSON value. */
  encode(event: LedgerEvent): Uint8Array;
}

const encoder = new TextEncoder();

export const WIRE_EVENT_CODEC: LedgerCodec = {
  contentType: "application/json",
  encode: (event) => encoder.encode(JSON.stringify(toWire(event))),
};

/** Everything that shapes a chunk besides its ledger and codec (the cache's outer keys). */
interface ReadShape {
  readonly from: number;
  readonly tail: number;
  readonly maxEvents: number;
  readonly maxBytes: number;
}

interface LastRead {
  readonly shape: ReadShape;
  readonly chunk: LedgerChunk;
}

const sameShape = (a: ReadShape, b: ReadShape): boolean =>
  a.from === b.from &&
  a.tail === b.tail &&
  a.maxEvents === b.maxEvents &&
  a.maxBytes === b.maxBytes;

/** The last chunk read per ledger and codec (invariant 3). */
const lastReads = new WeakMap<LedgerCodec, WeakMap<Ledger, LastRead>>();

export function ledgerReadSource(
  ledger: Ledger,
  clock: Clock,
  live: Pick<LiveReadOptions, "maxEvents" | "windowMs">,
  codec: LedgerCodec = WIRE_EVENT_CODEC,
): StreamReadSource<LedgerChunk> {
  const { maxEvents } = live;
  const window = deliveryWindow(ledger, clock, live.windowMs);
  let cache = lastReads.get(codec);
  if (cache === undefined) {
    cache = new WeakMap();
    lastReads.set(codec, cache);
  }
  const reads = cache;
  return {
    contentType: codec.contentType,
    bytePositions: false,
    etagId: "ledger",
    state: () => ({ tail: ledger.tail, closed: ledger.closed }),
    parseOffset: (token, state, from) => decodeOffset(token, state.tail, from),
    formatOffset: encodeOffset,
    read(from, maxBytes) {
      const shape: ReadShape = { from, tail: ledger.tail, maxEvents, maxBytes };
      const last = reads.get(ledger);
      if (last !== undefined && sameShape(last.shape, shape)) return [last.chunk];
      const chunk = readChunk(ledger, codec, shape);
      if (chunk === undefined) return [];
      reads.set(ledger, { shape, chunk });
      return [chunk];
    },
    // The session's one delivery window, not each append (delivery-window.ts).
    waitForChange: (timeoutMs, signal) => window.next(timeoutMs, signal),
  };
}

function readChunk(
  ledger: Ledger,
  codec: LedgerCodec,
  { from, maxEvents, maxBytes }: ReadShape,
): LedgerChunk | undefined {
  const events = ledger.read(from, maxEvents);
  const pieces = takeUntilBudget(events, codec.encode, (piece) => piece.byteLength, maxBytes);
  const kept = events.slice(0, pieces.length);
  const lastEvent = kept[kept.length - 1];
  if (lastEvent === undefined) return undefined;
  return { end: lastEvent.seq, data: joinMessages(pieces, codec), events: kept };
}

/**
 * JSON streams store messages comma-joined (json-mode.ts); other streams concatenate. An
 * event that encodes to nothing takes a position and adds no message.
 */
function joinMessages(all: readonly Uint8Array[], codec: LedgerCodec): Uint8Array {
  const pieces = all.filter((piece) => piece.byteLength > 0);
  const json = isJsonContentType(codec.contentType);
  let length = json ? Math.max(0, pieces.length - 1) : 0;
  for (const piece of pieces) length += piece.byteLength;
  const out = new Uint8Array(length);
  let at = 0;
  pieces.forEach((piece, index) => {
    if (json && index > 0) out[at++] = 0x2c;
    out.set(piece, at);
    at += piece.byteLength;
  });
  return out;
}

/** The reader's options for a ledger: the session's live windows (docs/limits.md). */
export function ledgerReadOptions(live: LiveReadOptions, clock: Clock): StreamReadOptions {
  return {
    longPollTimeoutMs: live.longPollMs,
    sseMaxDurationMs: live.sseMaxMs,
    sseKeepAliveMs: live.keepAliveMs,
    maxReadBytes: MAX_READ_BYTES,
    sseStall: { ms: live.stallMs, sleep: (ms, signal) => clock.sleep(ms, signal) },
    // A session is one user's, and read behind auth: no cache keeps it (PROTOCOL.md 12).
    cacheVisibility: "no-store",
    now: () => clock.now(),
  };
}

/**
 * `GET .../events`: the ledger as a Durable Stream in JSON mode (PROTOCOL.md 5.5-5.8):
 * catch-up, `live=long-poll` and `live=sse`, and `HEAD` (the tail offset and whether the
 * session is closed), served by `serveStreamRead`.
 */
export function serveLedgerRead(
  request: Request,
  ledger: Ledger,
  clock: Clock,
  live: LiveReadOptions,
  codec: LedgerCodec = WIRE_EVENT_CODEC,
): Promise<Response> {
  return serveStreamRead(
    request,
    ledgerReadSource(ledger, clock, live, codec),
    ledgerReadOptions(live, clock),
  );
}
