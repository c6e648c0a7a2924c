/**
 * The store port: one stream's durable state. Reads are synchronous (DO SQLite and the
 * in-memory store both are), and every mutation goes through `transaction`, which must be
 * atomic: data, producer state and metadata commit together or not at all.
 */
import type { LineageSegment } from "./offsets.ts";

export interface ProducerTuple {
  readonly producerId: string;
  readonly epoch: number;
  readonly seq: number;
}

export interface ProducerState {
  readonly epoch: number;
  readonly lastSeq: number;
}

export interface ForkInfo {
  /** Stream path (relative to the stream root) of the source. */
  readonly sourcePath: string;
  /** The Stream-Fork-Offset the client sent, or null when it let the server pick the tail. */
  readonly requestedOffset: string | null;
  /** The last inherited position; positions above it are the fork's own. */
  readonly base: number;
  readonly subOffset: number;
}

export interface StreamMeta {
  readonly contentType: string;
  readonly ttlSeconds: number | null;
  readonly expiresAt: string | null;
  readonly closed: boolean;
  readonly closedBy: ProducerTuple | null;
  readonly lineage: readonly LineageSegment[];
  readonly tail: number;
  readonly lastStreamSeq: string | null;
  readonly createdAt: number;
  readonly lastAccessAt: number;
  readonly softDeleted: boolean;
  readonly refCount: number;
  readonly fork: ForkInfo | null;
}

/**
 * A run of stored data covering positions (start, end]. Byte streams: the raw bytes.
 * JSON streams: the UTF-8 of the messages joined by commas (`{"a":1},{"b":2}`).
 */
export interface StoredChunk {
  readonly start: number;
  readonly end: number;
  readonly data: Uint8Array;
}

export interface StreamStore {
  getMeta(): StreamMeta | null;
  getProducer(producerId: string): ProducerState | null;
  /** Own chunks with end > from and end <= until, in order, stopping once maxBytes is reached (always at least one). */
  readChunks(from: number, until: number, maxBytes: number): StoredChunk[];
  transaction<T>(fn: (writer: StreamWriter) => T): T;
}

export interface StreamWriter {
  putMeta(meta: StreamMeta): void;
  putProducer(producerId: string, state: ProducerState): void;
  appendChunks(chunks: readonly StoredChunk[]): void;
  /** Remove every row of the stream: data, producers and metadata. */
  wipe(): void;
}
