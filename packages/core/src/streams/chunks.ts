/** Chunk helpers shared by the write path, fork reads and the read engine. */
import { packJsonMessages, unpackJsonChunk } from "./json-mode.ts";
import type { StoredChunk } from "./store.ts";

const encoder = new TextEncoder();

/** Largest payload of one stored row. DO SQLite caps a row at 2 MB; stay well under it. */
export const MAX_CHUNK_BYTES = 1024 * 1024;

/** Turn validated append content into chunks that start at `start`. */
export function buildChunks(start: number, content: AppendContent): StoredChunk[] {
  const out: StoredChunk[] = [];
  let position = start;
  if (content.kind === "json") {
    for (const packed of packJsonMessages(content.messages, MAX_CHUNK_BYTES)) {
      out.push({ start: position, end: position + packed.count, data: packed.data });
      position += packed.count;
    }
    return out;
  }
  for (let at = 0; at < content.bytes.byteLength; at += MAX_CHUNK_BYTES) {
    const data = content.bytes.subarray(
      at,
      Math.min(at + MAX_CHUNK_BYTES, content.bytes.byteLength),
    );
    out.push({ start: position, end: position + data.byteLength, data });
    position += data.byteLength;
  }
  return out;
}

export type AppendContent =
  | { readonly kind: "json"; readonly messages: readonly string[] }
  | { readonly kind: "bytes"; readonly bytes: Uint8Array };

export function contentLength(content: AppendContent): number {
  return content.kind === "json" ? content.messages.length : content.bytes.byteLength;
}

/** The part of a chunk at or after position `from` (offsets only land mid-chunk when constructed). */
export function sliceChunk(chunk: StoredChunk, from: number, json: boolean): StoredChunk {
  if (from <= chunk.start) return chunk;
  if (!json) return { start: from, end: chunk.end, data: chunk.data.subarray(from - chunk.start) };
  const messages = unpackJsonChunk(chunk.data).slice(from - chunk.start);
  return { start: from, end: chunk.end, data: encoder.encode(messages.join(",")) };
}

/** The first `count` positions of a chunk, as a new chunk (fork sub-offsets materialize this). */
export function chunkPrefix(chunk: StoredChunk, count: number, json: boolean): StoredChunk {
  if (!json)
    return { start: chunk.start, end: chunk.start + count, data: chunk.data.slice(0, count) };
  const messages = unpackJsonChunk(chunk.data).slice(0, count);
  return { start: chunk.start, end: chunk.start + count, data: encoder.encode(messages.join(",")) };
}
