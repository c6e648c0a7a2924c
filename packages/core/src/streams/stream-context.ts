/** Everything the protocol handler needs for one stream, passed in as ports. */

import type { LineageSegment } from "./offsets.ts";
import type { StreamReadOptions } from "./read/read-source.ts";
import type { StoredChunk, StreamMeta, StreamStore } from "./store.ts";
import type { Waiters } from "./waiters.ts";
import type { GroupCommit } from "./write/group-commit.ts";

export interface StreamConfig {
  /** URL path prefix of streams, e.g. `/v1/stream/`. */
  readonly streamRoot: string;
  /** Largest request body accepted by PUT or POST; bigger bodies get 413. */
  readonly maxAppendBytes: number;
  readonly read: StreamReadOptions;
}

/** What a source grants a new fork (PROTOCOL.md 4.2). */
export interface ForkGrant {
  readonly contentType: string;
  readonly ttlSeconds: number | null;
  readonly expiresAt: string | null;
  readonly lineage: readonly LineageSegment[];
  readonly base: number;
  /** A sub-offset's partial chunk, copied into the fork as its first own data. */
  readonly prefix: StoredChunk | null;
}

export interface ForkGrantRequest {
  readonly offset: string | null;
  readonly subOffset: number;
  readonly contentType: string | null;
}

/** Other streams, reached in process (memory server) or by DO-to-DO RPC (Cloudflare). */
export interface StreamPeers {
  grantFork(sourcePath: string, request: ForkGrantRequest): Promise<ForkGrant>;
  releaseFork(sourcePath: string): Promise<void>;
  readInherited(
    sourcePath: string,
    from: number,
    until: number,
    maxBytes: number,
  ): Promise<StoredChunk[]>;
}

/** Lifecycle events, for subscriptions and expiry alarms. All optional. */
export interface StreamHooks {
  created?(meta: StreamMeta): void | Promise<void>;
  appended?(meta: StreamMeta): void | Promise<void>;
  deleted?(): void | Promise<void>;
  /** Ask to run `expireIfDue` at `atMs` (the DO sets an alarm). */
  expiryDue?(atMs: number): void;
}

export interface StreamContext {
  /** Path of this stream relative to `streamRoot`. */
  readonly path: string;
  readonly store: StreamStore;
  readonly waiters: Waiters;
  readonly peers: StreamPeers;
  readonly config: StreamConfig;
  readonly hooks?: StreamHooks;
  /** Batches concurrent appends into one commit (write/group-commit.ts); without it each commits alone. */
  readonly appends?: GroupCommit;
  readonly now: () => number;
  readonly random?: () => number;
}
