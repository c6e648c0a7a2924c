import { mcpToolsProjection } from "../../mcp/mcp-tools-projection.ts";
import type { Projection } from "../projection.ts";
import { checkpointsProjection } from "./checkpoints.ts";
import { messagesProjection } from "./messages.ts";
import { runsProjection } from "./runs.ts";
import { sessionStateProjection } from "./session-state.ts";
import { toolCallsProjection } from "./tool-calls.ts";
import { usageProjection } from "./usage.ts";
import { usageEntriesProjection } from "./usage-entries.ts";

export {
  type Checkpoint,
  checkpointsProjection,
  getCheckpoint,
  latestCheckpoint,
  listCheckpoints,
} from "./checkpoints.ts";
export {
  changedMessages,
  listMessages,
  type Message,
  type MessagePart,
  type MessageRole,
} from "./message-reads.ts";
export { messagesProjection } from "./messages.ts";
export {
  getRun,
  latestRun,
  RUN_STATUS_AFTER,
  type RunPhase,
  type RunRecord,
  type RunStatus,
  runsProjection,
} from "./runs.ts";
export {
  latestState,
  type StoredState,
  sessionStateProjection,
  stateVersion,
  stateVersionAt,
} from "./session-state.ts";
export {
  stepToolCalls,
  type ToolCallRecord,
  type ToolCallStatus,
  toolCallsProjection,
} from "./tool-calls.ts";
export { type UsageSummary, usageProjection, usageSummary } from "./usage.ts";
export {
  listUsageEntries,
  MAX_USAGE_ENTRIES_PAGE,
  spentUsageOf,
  type UsageEntriesPage,
  type UsageEntriesQuery,
  type UsageEntry,
  type UsageFact,
  type UsageKind,
  usageEntriesProjection,
  usageEntriesQuery,
  usageFactOf,
  usageKind,
} from "./usage-entries.ts";

/** The projections every session keeps, in the order they apply. */
export const SESSION_PROJECTIONS: readonly Projection[] = [
  runsProjection,
  messagesProjection,
  toolCallsProjection,
  usageProjection,
  usageEntriesProjection,
  checkpointsProjection,
  sessionStateProjection,
  mcpToolsProjection,
];
