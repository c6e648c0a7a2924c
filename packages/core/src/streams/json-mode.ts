/** JSON mode (PROTOCOL.md 9.1): validate, flatten one array level, store messages comma-joined. */
import { assertJsonDepth } from "../http/json-depth.ts";
import { InvalidBodyError } from "./stream-errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Parse an append body into messages (each serialized). `allowEmpty` is for PUT's `[]`. */
export function parseJsonMessages(body: Uint8Array, allowEmpty: boolean): string[] {
  let value: unknown;
  const text = decoder.decode(body);
  assertJsonDepth(text, "the JSON body");
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidBodyError(
      `body is not valid JSON (${(error as Error).message}); JSON streams accept one JSON value or an array of values`,
    );
  }
  if (!Array.isArray(value)) return [JSON.stringify(value)];
  if (value.length === 0 && !allowEmpty) {
    throw new InvalidBodyError(
      "body is an empty JSON array, which appends nothing; send at least one message",
    );
  }
  return value.map((item) => JSON.stringify(item));
}

/** Pack messages into chunk payloads of at most `maxBytes` each (a message is never split). */
export function packJsonMessages(
  messages: readonly string[],
  maxBytes: number,
): { data: Uint8Array; count: number }[] {
  const out: { data: Uint8Array; count: number }[] = [];
  let current: string[] = [];
  let size = 0;
  for (const message of messages) {
    if (current.length > 0 && size + message.length + 1 > maxBytes) {
      out.push({ data: encoder.encode(current.join(",")), count: current.length });
      current = [];
      size = 0;
    }
    current.push(message);
    size += message.length + 1;
  }
  if (current.length > 0)
    out.push({ data: encoder.encode(current.join(",")), count: current.length });
  return out;
}

/** Split a stored JSON chunk back into its messages. */
export function unpackJsonChunk(data: Uint8Array): string[] {
  const values = JSON.parse(`[${decoder.decode(data)}]`) as unknown[];
  return values.map((value) => JSON.stringify(value));
}

export function jsonArrayBody(pieces: readonly Uint8Array[]): Uint8Array {
  const parts = pieces.filter((piece) => piece.byteLength > 0);
  let length = 2 + Math.max(0, parts.length - 1);
  for (const part of parts) length += part.byteLength;
  const out = new Uint8Array(length);
  out[0] = 0x5b;
  let at = 1;
  parts.forEach((part, index) => {
    if (index > 0) out[at++] = 0x2c;
    out.set(part, at);
    at += part.byteLength;
  });
  out[at] = 0x5d;
  return out;
}
