export {
  type IndexDb,
  type IndexedSession,
  listSessions,
  MAX_SESSIONS_PAGE,
  MAX_USAGE_ROWS,
  type SessionQuery,
  type UsageQuery,
  type UsageRow,
  usageRollup,
} from "./d1-queries.ts";
export {
  applyRetention,
  DEFAULT_RETENTION_CHUNK,
  DEFAULT_RETENTION_DAYS,
  type RetentionOptions,
  type RetentionPass,
  retentionHandler,
} from "./d1-retention.ts";
export { d1Deliverer } from "./d1-store.ts";
export {
  INDEX_DELAY_MS,
  indexProjection,
  recordIdentity,
  type SessionMessage,
  type UsageMessage,
} from "./index-messages.ts";
export {
  type IndexContext,
  type IndexDelivery,
  type IndexOptions,
  indexExtensions,
} from "./session-index.ts";
export {
  type IndexShardOptions,
  indexShards,
  MAX_INDEX_SHARDS,
  shardBindings,
  shardOf,
} from "./shards.ts";
