export {
  applyRetention,
  type IndexedSession,
  listSessions,
  MAX_SESSIONS_PAGE,
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
