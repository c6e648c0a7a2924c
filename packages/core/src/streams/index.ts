/** Durable Streams (PROTOCOL.md v1.0): the protocol as `Request → Response` over ports. */

export { grantFork, readInherited } from "./fork-source.ts";
export { handleStreamRequest } from "./handler.ts";
export { preflightResponse, withStreamHeaders } from "./http-headers.ts";
export { expireIfDue, releaseForkReference } from "./lifecycle.ts";
export {
  DEFAULT_STREAM_CONFIG,
  MemoryStreamServer,
  type MemoryStreamServerOptions,
} from "./memory-server.ts";
export { MemoryStreamStore } from "./memory-store.ts";
export { formatOffset, type LineageSegment, ZERO_OFFSET } from "./offsets.ts";
export {
  PRODUCTION_READ_OPTIONS,
  type ReadChunk,
  type ReadState,
  type StreamReadOptions,
  type StreamReadSource,
} from "./read/read-source.ts";
export { serveStreamRead } from "./read/serve-stream-read.ts";
export { parseFork } from "./request-headers.ts";
export type { ProducerState, StoredChunk, StreamMeta, StreamStore, StreamWriter } from "./store.ts";
export type {
  ForkGrant,
  ForkGrantRequest,
  StreamConfig,
  StreamContext,
  StreamHooks,
  StreamPeers,
} from "./stream-context.ts";
export { InvalidOffsetError, StreamNotFoundError } from "./stream-errors.ts";
export { assertStreamPath, badPathSegment } from "./stream-path.ts";
export {
  authenticatesItself,
  parseRegistryPath,
  type RegistryRoute,
  registryResource,
  type SubscriptionEffects,
  SubscriptionRegistry,
  type SubscriptionRegistryOptions,
  type SubscriptionStorage,
} from "./subscriptions/index.ts";
export { Waiters } from "./waiters.ts";
export { appendTo } from "./write/append.ts";
export { type AppendOutcome, applyAppends } from "./write/append-batch.ts";
export {
  type AppendInput,
  type AppendReply,
  appendResponse,
  readAppendRequest,
} from "./write/append-input.ts";
export { GroupCommit } from "./write/group-commit.ts";
