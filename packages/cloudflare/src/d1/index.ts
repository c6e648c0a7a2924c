// @durable-agents/cloudflare/d1: the cross-session index in D1 (GET /sessions, GET /usage,
// retention, migrations, shards). A separate entry point, so a Worker without an index
// bundles none of it; d1Index() turns it on (docs/api.md#the-d1-index).

export { d1Index } from "./d1-index.ts";
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
export { INDEX_DELAY_MS, type SessionMessage, type UsageMessage } from "./index-messages.ts";
export type { IndexContext, SessionIndex } from "./index-port.ts";
export {
  INDEX_MIGRATIONS,
  INDEX_SCHEMA_VERSION,
  type IndexMigration,
  migrationVersion,
  pendingMigrations,
  runMigrations,
} from "./migrations.ts";
export type { IndexDelivery, IndexOptions } from "./session-index.ts";
export {
  type IndexShardOptions,
  indexShards,
  MAX_INDEX_SHARDS,
  shardBindings,
  shardOf,
} from "./shards.ts";
