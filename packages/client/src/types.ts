/**
 * Wire types of the durable-agents HTTP API, taken from the server's own
 * definitions (`@durable-agents/core/types`, types only: nothing of core is
 * bundled). The ledger is the source of truth; every other shape here is a
 * projection of it.
 */
import type {
  AppEventKind,
  AppEventPrefix,
  ApprovalDecision,
  ErrorInfo,
  EventKind,
  EventPayloads,
  ResumeBody,
  RetryBody,
  SessionStatusView,
  StartBody,
  StartedRun,
  LedgerEvent as StoredEvent,
  ToolCallRequest,
} from "@durable-agents/core/types";

export type {
  AppEventKind,
  Checkpoint,
  IndexedSession,
  JsonValue,
  Message,
  MessagePart,
  ProjectionStatus,
  ProjectionsList,
  RunStatusAfter,
  ScheduleBody,
  SchedulesList,
  ScheduleView,
  SessionQuery,
  SessionSnapshot,
  SessionStatus,
  SessionsPage,
  StartBody,
  UsageView,
} from "@durable-agents/core/types";

export type ToolCall = ToolCallRequest;
export type WireError = ErrorInfo;

/** Event data by kind. Each kind is versioned on the server; fields only ever get added. */
export type LedgerEventData = EventPayloads;
export type LedgerEventKind = EventKind;

/**
 * One ledger event as served (`GET .../events`, the WebSocket), discriminated by
 * `kind`: the stored event plus its `offset` (opaque; offsets sort as text).
 *
 * Events of kinds this client does not know yet are passed through unchanged
 * at runtime (a newer server may add kinds); use {@link isKnownEvent} before
 * trusting `data`, or handle them in a `default` branch.
 */
export type LedgerEvent<K extends EventKind = EventKind> = StoredEvent<K> & {
  readonly offset: string;
};

/**
 * The namespace of application event kinds (`defineEvent` on the server); typed by core's
 * own declaration, so a change there is a type error here.
 */
export const APP_EVENT_PREFIX: AppEventPrefix = "app.";

/** True for an application event (`app.<kind>`): its data is the app's own JSON payload. */
export function isAppEvent(event: { kind: string }): event is LedgerEvent<AppEventKind> {
  return event.kind.startsWith(APP_EVENT_PREFIX);
}

/** Every kind this client was built against; a kind core adds and this misses is a type error. */
const KNOWN_KINDS: Record<Exclude<EventKind, AppEventKind>, true> = {
  "run.started": true,
  "run.interrupt_requested": true,
  "step.started": true,
  "model.delta": true,
  "model.reasoning_delta": true,
  "model.reasoning": true,
  "mcp.tools_listed": true,
  "context.compacted": true,
  "context.summary_discarded": true,
  "model.completed": true,
  "tool.started": true,
  "tool.completed": true,
  "tool.failed": true,
  "tool.outcome_unknown": true,
  "step.completed": true,
  "approval.requested": true,
  "approval.resolved": true,
  "run.resumed": true,
  "subagent.started": true,
  "subagent.completed": true,
  "workflow.started": true,
  "session.closed": true,
  "trigger.failed": true,
  "trigger.cancelled": true,
  "state.updated": true,
  "usage.recorded": true,
  "run.waiting": true,
  "run.completed": true,
  "run.failed": true,
  "run.interrupted": true,
  "run.aborted": true,
};

/** True when this client version knows the event's kind (and so the shape of its data). */
export function isKnownEvent(event: { kind: string }): event is LedgerEvent {
  return Object.hasOwn(KNOWN_KINDS, event.kind) || isAppEvent(event);
}

export type TerminalEventKind = Extract<
  EventKind,
  "run.completed" | "run.failed" | "run.interrupted" | "run.aborted"
>;

/** A terminal event ends a run for good (until a resume or retry starts it again). */
export function isTerminalEvent(event: LedgerEvent): event is LedgerEvent<TerminalEventKind> {
  return (
    event.kind === "run.completed" ||
    event.kind === "run.failed" ||
    event.kind === "run.interrupted" ||
    event.kind === "run.aborted"
  );
}

/** `POST .../runs` (202): the new run, and the offset just before its first event. */
export interface RunStarted extends StartedRun {
  readonly session: string;
  readonly agent: string;
}

/** `GET .../status`. */
/** `GET .../checkpoints`, `GET .../messages` and `GET .../chat-history` pages: core's definitions. */
export type {
  ChatHistoryPage,
  ChatTurn,
  CheckpointsPage,
  MessagesPage,
  StatusResponse,
} from "@durable-agents/core/types";

/**
 * What interrupt, abort, resume and retry answer: the session's status after the
 * command. These act on a run, so `runId` is always set.
 */
export type RunControlResponse = SessionStatusView & { readonly runId: string };

/** One approval decision: approve (optionally with edited `args`) or deny (with a `reason`). */
export type Approval = ApprovalDecision;

/**
 * What a start may carry besides its message (`POST .../runs`): files and images (AI SDK
 * `ImagePart`/`FilePart`s with a base64 data URL or an https URL), the run's model options,
 * the application state to start from, earlier conversation placed before the message, the
 * app's metadata, and what drives the run (`executor`: "alarm" or "workflow", over the agent's).
 */
export interface StartFields {
  readonly files?: StartBody["input"]["files"];
  readonly modelOptions?: StartBody["modelOptions"];
  readonly executor?: StartBody["executor"];
  readonly state?: StartBody["input"]["state"];
  readonly messages?: StartBody["input"]["messages"];
  readonly metadata?: StartBody["metadata"];
}

/** The start body for `message` and `fields` (only the fields that are set). */
export function startBody(message: string, fields: StartFields = {}): StartBody {
  const { files, modelOptions, executor, state, messages, metadata } = fields;
  return {
    input: {
      message,
      ...(files !== undefined ? { files } : {}),
      ...(state !== undefined ? { state } : {}),
      ...(messages !== undefined ? { messages } : {}),
    },
    ...(modelOptions !== undefined ? { modelOptions } : {}),
    ...(executor !== undefined ? { executor } : {}),
    ...(metadata !== undefined ? { metadata } : {}),
  };
}

/** `POST .../resume`, as the server validates it (`checkpoint` is a checkpoint id). */
export type ResumeRequest = ResumeBody;

export type RetryMode = NonNullable<RetryBody["mode"]>;

/** `GET .../state`: the application state, its version, and the ledger offset it was read at. */
export interface StateResponse<T = unknown> {
  readonly state: T;
  /** 0 for the agent's initial state; pass it as `expectedVersion` to `setState`. */
  readonly version: number;
  readonly offset: string;
}

/** `PUT .../state`: the version the write got and the offset of its `state.updated` event. */
export interface SetStateResponse {
  readonly version: number;
  readonly offset: string;
}

/** `POST .../fork` (201): the new session, where it came from, and how many events it copied. */
export interface ForkResponse {
  readonly agent: string;
  readonly session: string;
  readonly forkedFrom: { readonly session: string; readonly checkpoint: string };
  readonly events: number;
}
