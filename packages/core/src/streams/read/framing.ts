/** Bodies and SSE frames for reads. SSE lines use `data:` with no space, as the spec's examples do. */
import { jsonArrayBody } from "../json-mode.ts";
import type { ReadChunk } from "./read-source.ts";

const decoder = new TextDecoder();

export function concatBytes(chunks: readonly ReadChunk[]): Uint8Array {
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

/** One `data` event. Text is split on every line break so payloads can never forge events. */
export function sseDataEvent(
  chunks: readonly ReadChunk[],
  mode: "json" | "text" | "base64",
): string {
  let payload: string;
  if (mode === "base64") payload = toBase64(concatBytes(chunks));
  else payload = decoder.decode(responseBody(chunks, mode === "json"));
  let out = "event: data\n";
  for (const line of payload.split(/\r\n|\r|\n/)) out += `data:${line}\n`;
  return `${out}\n`;
}

export interface ControlEvent {
  readonly streamNextOffset: string;
  readonly streamCursor?: string;
  readonly upToDate?: true;
  readonly streamClosed?: true;
}

export function sseControlEvent(control: ControlEvent): string {
  return `event: control\ndata:${JSON.stringify(control)}\n\n`;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.byteLength; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
