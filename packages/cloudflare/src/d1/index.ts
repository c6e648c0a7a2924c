export {
  applyRetention,
  DEFAULT_RETENTION_CHUNK,
  DEFAULT_RETENTION_DAYS,
  type IndexedSession,
  listSessions,
  MAX_SESSIONS_PAGE,
  type RetentionOptions,
  retentionHandler,
  type SessionQuery,
  type UsageQuery,
  type UsageRow,
  usageRollup,
} from "./d1-queries.ts";
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
