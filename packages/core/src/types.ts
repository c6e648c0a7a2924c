/**
 * `@durable-agents/core/types`: the wire contract as types only. Clients
 * (`@durable-agents/client`, browsers, other tools) import the server's own
 * definitions from here, so an event kind or a command field is declared once.
 *
 * Invariants:
 * 1. This module holds only `export type`: importing it loads no runtime code
 *    (checked by `types-entry.test.ts`).
 * 2. Command bodies are the inputs of the schemas the server validates them
 *    with (`z.input`), so a field the server accepts is a field the client may
 *    send, and nothing else.
 */
import type * as z from "zod/mini";
// The command schemas, as the session-command layer declares them (commands/*.ts).
import type { cancelInput, scheduleInput, stateInput } from "./commands/data-commands.ts";
import type { rebuildInput } from "./commands/projection-commands.ts";
import type {
  decisionInput,
  forkInput,
  reasonInput,
  resumeInput,
  retryInput,
  startInput,
} from "./commands/run-commands.ts";

export type {
  SessionStatus,
  StartedRun,
  StatusView as SessionStatusView,
} from "./agent/session-runtime-options.ts";
export type { ProjectionState, ProjectionStatus } from "./app-events/app-projections.ts";
export type { ChatHistoryPage } from "./http/chat/chat-history.ts";
export type { IndexedSession, SessionQuery, SessionsPage } from "./http/index-views.ts";
export type { SessionSnapshot } from "./http/routes/platform-routes.ts";
export type { ProjectionsList } from "./http/routes/projection-routes.ts";
export type { StatusResponse } from "./http/routes/read-routes.ts";
export type { SchedulesList } from "./http/routes/schedule-routes.ts";
export type { CheckpointsPage, MessagesPage } from "./http/session-pages.ts";
export type { UsageView } from "./http/usage-view.ts";
export type {
  AppEventKind,
  AppEventPrefix,
  ErrorInfo,
  EventKind,
  EventPayloads,
  JsonValue,
  LedgerEvent,
  ParentRef,
  PriorMessage,
  StateSource,
  TokenUsage,
  ToolCallRequest,
  ToolEffect,
} from "./ledger/events.ts";
export type { Checkpoint } from "./ledger/projections/checkpoints.ts";
export type { Message, MessagePart, MessageRole } from "./ledger/projections/message-reads.ts";
export type { RunStatus, RunStatusAfter } from "./ledger/projections/runs.ts";
export type { WireEvent } from "./ledger/wire-event.ts";
export type { ScheduleView } from "./triggers/schedules.ts";
export type { ChatTurn, UserUIMessage } from "./wire/ui-stream/chat-turns.ts";

/** `POST .../runs`. */
export type StartBody = z.input<typeof startInput>;
/** `POST .../interrupt`, `.../abort`, `.../close`. */
export type ReasonBody = z.input<typeof reasonInput>;
/** `POST .../resume`: a mode, a message, a checkpoint id, approvals (see docs/api.md). */
export type ResumeBody = z.input<typeof resumeInput>;
/** One approval decision inside a resume. */
export type ApprovalDecision = z.input<typeof decisionInput>;
/** `POST .../retry`. */
export type RetryBody = z.input<typeof retryInput>;
/** `POST .../fork`. */
export type ForkBody = z.input<typeof forkInput>;
/** `PUT .../state`: compare-and-set of the application state. */
export type SetStateBody = z.input<typeof stateInput>;
/** `POST .../schedules`. */
export type ScheduleBody = z.input<typeof scheduleInput>;
/** `DELETE .../schedules?key=`: the query that cancels a schedule. */
export type CancelScheduleBody = z.input<typeof cancelInput>;
/** `POST .../projections`: rebuild one application projection. */
export type RebuildProjectionBody = z.input<typeof rebuildInput>;
