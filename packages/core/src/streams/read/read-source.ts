/**
 * The read-source port: what `serveStreamRead` needs from anything readable as a Durable
 * Stream. A general stream implements it over its store (and its fork source); an agent
 * session implements it over its ledger (`ledger-source.ts`: positions are seq, a chunk is a
 * batch of events). `C` lets a source hand readers more than bytes (a ledger chunk carries
 * its events, which the AG-UI and UI message projections map).
 */
import type { PositionSource } from "../../ledger/offset.ts";

export interface ReadState {
  /** Position after the last item. */
  readonly tail: number;
  readonly closed: boolean;
}

export interface ReadChunk {
  /** Position after this chunk. Chunks come in order and are contiguous. */
  readonly end: number;
  /** Byte streams: raw bytes. JSON streams: one or more serialized messages joined by commas. */
  readonly data: Uint8Array;
}

export interface StreamReadSource<C extends ReadChunk = ReadChunk> {
  readonly contentType: string;
  /**
   * A position counts bytes (a byte or text stream over a store), so a read can end inside a
   * UTF-8 character; false when every position is a whole message (JSON mode, a ledger).
   */
  readonly bytePositions: boolean;
  /** Stable id of this stream incarnation, used in ETags. */
  readonly etagId: string;
  state(): ReadState | Promise<ReadState>;
  /**
   * Parse a client offset (not `-1`/`now`) into a position; throw `InvalidOffsetError` (400) if
   * it is not ours, naming it as `from` says it came (`?offset=` or `Last-Event-ID`).
   */
  parseOffset(token: string, state: ReadState, from: PositionSource): number;
  formatOffset(position: number): string;
  /** Chunks after `from`, up to about `maxBytes` (at least one chunk when any exists). */
  read(from: number, maxBytes: number): Promise<readonly C[]> | readonly C[];
  /**
   * Resolve when the tail moves or the stream closes, or after `timeoutMs`, or on abort.
   * Callers read `state()` and then wait, with an `await` between: a source whose changes
   * can land in that gap resolves at once when the state moved since it last reported it.
   */
  waitForChange(timeoutMs: number, signal: AbortSignal): Promise<void>;
}

export interface StreamReadOptions {
  /** How long a long-poll waits before answering 204. Production: 20 s. */
  readonly longPollTimeoutMs: number;
  /** An SSE response ends after this long so CDNs can collapse reconnects. Production: 60 s. */
  readonly sseMaxDurationMs: number;
  /** Idle SSE responses get a comment this often, so proxies keep them open. Production: 15 s. */
  readonly sseKeepAliveMs: number;
  /** Cap on the body of one catch-up or long-poll response, and on one SSE data event. */
  readonly maxReadBytes: number;
  /**
   * An SSE reader that has not taken its last write after this long is ended, and resumes
   * from its offset (live-sse.ts invariant 4); with `sleep`, the clock's. Unset: it is waited for.
   */
  readonly sseStall?: {
    readonly ms: number;
    readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  };
  /**
   * Caching of reads that carry data: `public` for shared streams, `private` for one user's,
   * `no-store` for sensitive or user-specific data that no cache may keep (PROTOCOL.md 10.1, 12).
   */
  readonly cacheVisibility: "public" | "private" | "no-store";
  readonly now?: () => number;
  readonly random?: () => number;
}

export const PRODUCTION_READ_OPTIONS: StreamReadOptions = {
  longPollTimeoutMs: 20_000,
  sseMaxDurationMs: 60_000,
  sseKeepAliveMs: 15_000,
  maxReadBytes: 1024 * 1024,
  cacheVisibility: "public",
};
