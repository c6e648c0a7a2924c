/** Bodies and SSE frames for reads (PROTOCOL.md 5.6, 5.8); SSE lines come from `formatSse`. */
import { formatSse } from "../../wire/sse.ts";
import { jsonArrayBody } from "../json-mode.ts";
import type { ReadChunk } from "./read-source.ts";

const decoder = new TextDecoder();
/** `data:<line>`, as the conformance suite expects (PROTOCOL.md 5.8's examples). */
const COMPACT = { compact: true };
const encoder = new TextEncoder();

export type SseMode = "json" | "text" | "base64";

export function concatBytes(chunks: readonly { readonly data: Uint8Array }[]): Uint8Array {
  if (chunks.length === 1) return (chunks[0] as ReadChunk).data;
  let length = 0;
  for (const chunk of chunks) length += chunk.data.byteLength;
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk.data, at);
    at += chunk.data.byteLength;
  }
  return out;
}

export function responseBody(chunks: readonly ReadChunk[], json: boolean): Uint8Array {
  return json ? jsonArrayBody(chunks.map((chunk) => chunk.data)) : concatBytes(chunks);
}

/** `data` events already built, by the chunk they frame: readers at one offset of a ledger share one. */
const framed = new WeakMap<ReadChunk, Uint8Array>();

/**
 * One `data` event for `chunks`, as UTF-8. Text is split on every line break so payloads can
 * never forge events (`formatSse`). The bytes of a lone chunk are kept with it, so every SSE reader that
 * gets the same chunk object (a ledger source hands readers at the same offset one) writes
 * the same bytes instead of building its own (bench/fanout.ts).
 */
export function sseDataEvent(chunks: readonly ReadChunk[], mode: SseMode): Uint8Array {
  const lone = chunks.length === 1 ? (chunks[0] as ReadChunk) : undefined;
  const cached = lone === undefined ? undefined : framed.get(lone);
  if (cached !== undefined) return cached;
  const bytes = sseDataEventOf(
    mode === "json" ? responseBody(chunks, true) : concatBytes(chunks),
    mode,
  );
  if (lone !== undefined) framed.set(lone, bytes);
  return bytes;
}

/** One `data` event for raw bytes (for text mode: whole UTF-8 characters only, see `completeUtf8Length`). */
export function sseDataEventOf(bytes: Uint8Array, mode: SseMode): Uint8Array {
  const payload = mode === "base64" ? toBase64(bytes) : decoder.decode(bytes);
  return encoder.encode(formatSse({ event: "data", data: payload }, COMPACT));
}

export interface ControlEvent {
  readonly streamNextOffset: string;
  readonly streamCursor?: string;
  readonly upToDate?: true;
  readonly streamClosed?: true;
}

/** A `control` event; its SSE `id` is the next offset, so an `EventSource` resumes by `Last-Event-ID`. */
export function sseControlEvent(control: ControlEvent): string {
  return formatSse(
    { event: "control", id: control.streamNextOffset, data: JSON.stringify(control) },
    COMPACT,
  );
}

/**
 * How many leading bytes of `bytes` are whole UTF-8 characters: a sequence cut by a read or
 * append boundary at the end is left for the next data event (RFC 3629 lead bytes: 110xxxxx
 * starts 2 bytes, 1110xxxx 3, 11110xxx 4; 10xxxxxx continues one).
 */
export function completeUtf8Length(bytes: Uint8Array): number {
  const n = bytes.byteLength;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const byte = bytes[n - back] as number;
    if ((byte & 0xc0) === 0x80) continue;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.byteLength; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
