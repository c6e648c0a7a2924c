/**
 * Durable Streams SSE reads (PROTOCOL.md 5.8): every `data` event is followed by a `control`
 * event (its SSE `id` is the next offset); the response ends after `sseMaxDurationMs`, when
 * the client goes away, or after the control event that reports `streamClosed`.
 *
 * Invariants:
 * 1. A text data event never splits a UTF-8 character: bytes of a character cut by a read or
 *    append boundary wait for the rest, and the control event's offset stays before them, so
 *    a reconnect reads them again. Only the end of a closed stream flushes a cut character.
 *    (Sources whose positions are whole messages, `bytePositions: false`, never cut one.)
 * 2. Control offsets never go backwards and never pass what the data events carried.
 */
import { SSE_HEADERS } from "../../wire/sse.ts";
import { isJsonContentType, isTextContentType } from "../content-type.ts";
import { H } from "../protocol-headers.ts";
import { advanceCursor, nextCursor } from "./cursor.ts";
import {
  type ControlEvent,
  completeUtf8Length,
  concatBytes,
  type SseMode,
  sseControlEvent,
  sseDataEvent,
  sseDataEventOf,
} from "./framing.ts";
import { type LiveFrames, liveSse } from "./live-sse.ts";
import type { ReadChunk, ReadState, StreamReadOptions, StreamReadSource } from "./read-source.ts";

const EMPTY = new Uint8Array(0);

interface ControlOut {
  readonly key: string;
  readonly body: ControlEvent;
}

/**
 * The last data + control pair written after each data event (by the data event's bytes,
 * which readers at one offset of a ledger share: framing.ts): at a flush, every reader at
 * that offset with the same cursor writes the same bytes, built once (bench/fanout.ts).
 */
const pairs = new WeakMap<Uint8Array, { readonly key: string; readonly bytes: Uint8Array }>();

export function serveSse<C extends ReadChunk>(
  request: Request,
  source: StreamReadSource<C>,
  options: StreamReadOptions,
  start: number,
  clientCursor: string | null,
): Response {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const mode: SseMode = isJsonContentType(source.contentType)
    ? "json"
    : isTextContentType(source.contentType)
      ? "text"
      : "base64";
  let cursor: string | null = null;
  let sentControl = false;
  /** Text mode: the bytes of a character cut at the end of the last read (invariant 1). */
  let pending = EMPTY;

  /** The control event after a read up to `read`, and a key equal for equal events. */
  function controlOf(read: number, upToDate: boolean, closed: boolean): ControlOut {
    sentControl = true;
    const next = source.formatOffset(read - pending.byteLength);
    if (closed)
      return {
        key: `${next} c`,
        body: { streamNextOffset: next, upToDate: true, streamClosed: true },
      };
    cursor =
      cursor === null ? nextCursor(clientCursor, now(), random) : advanceCursor(cursor, now());
    const body: ControlEvent = upToDate
      ? { streamNextOffset: next, streamCursor: cursor, upToDate: true }
      : { streamNextOffset: next, streamCursor: cursor };
    return { key: `${next} ${cursor}${upToDate ? " u" : ""}`, body };
  }

  function control(read: number, upToDate: boolean, closed: boolean): string {
    return sseControlEvent(controlOf(read, upToDate, closed).body);
  }

  function dataEvent(chunks: readonly C[], closedAtEnd: boolean): Uint8Array | undefined {
    if (mode !== "text" || !source.bytePositions) return sseDataEvent(chunks, mode);
    if (pending.byteLength === 0) {
      const bytes = concatBytes(chunks);
      const whole = closedAtEnd ? bytes.byteLength : completeUtf8Length(bytes);
      if (whole === bytes.byteLength) return sseDataEvent(chunks, mode);
      pending = bytes.slice(whole);
      return whole === 0 ? undefined : sseDataEventOf(bytes.subarray(0, whole), mode);
    }
    const bytes = concatBytes([{ data: pending }, ...chunks]);
    const whole = closedAtEnd ? bytes.byteLength : completeUtf8Length(bytes);
    pending = bytes.slice(whole);
    return whole === 0 ? undefined : sseDataEventOf(bytes.subarray(0, whole), mode);
  }

  const frames: LiveFrames<C> = {
    chunks(chunks, state: ReadState) {
      const read = (chunks[chunks.length - 1] as C).end;
      const atTail = read >= state.tail;
      const closed = state.closed && atTail;
      const data = dataEvent(chunks, closed);
      if (data === undefined) return {};
      // One write for the pair, so a reader never sees a data event without its control event;
      // readers sent the same data event with the same control event share its bytes.
      const { key, body } = controlOf(read, atTail, closed);
      const shared = pairs.get(data);
      if (shared?.key === key) return { text: shared.bytes, end: closed };
      const pair = appendText(data, sseControlEvent(body));
      pairs.set(data, { key, bytes: pair });
      return { text: pair, end: closed };
    },
    atTail(state) {
      if (state.closed) {
        const cut = pending.byteLength === 0 ? undefined : sseDataEventOf(pending, mode);
        pending = EMPTY;
        const closing = control(state.tail, true, true);
        return { text: cut === undefined ? closing : appendText(cut, closing), end: true };
      }
      if (sentControl) return undefined;
      return { text: control(state.tail, true, false) };
    },
  };

  const headers = new Headers(SSE_HEADERS);
  if (mode === "base64") headers.set(H.sseEncoding, "base64");
  return liveSse(request, source, start, frames, {
    maxDurationMs: options.sseMaxDurationMs,
    keepAliveMs: options.sseKeepAliveMs,
    maxReadBytes: options.maxReadBytes,
    headers,
    now,
    ...(options.sseStall ? { stall: options.sseStall } : {}),
  });
}

const encoder = new TextEncoder();

function appendText(bytes: Uint8Array, text: string): Uint8Array {
  const tail = encoder.encode(text);
  const out = new Uint8Array(bytes.byteLength + tail.byteLength);
  out.set(bytes, 0);
  out.set(tail, bytes.byteLength);
  return out;
}
