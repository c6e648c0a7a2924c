/**
 * Wire types of the durable-agents HTTP API, as the server sends them.
 * The ledger is the source of truth; every other shape here is a projection.
 */

/** Run and session status, as reported by `GET .../status`. */
export type SessionStatus =
  | "idle"
  | "running"
  | "waiting"
  | "completed"
  | "failed"
  | "aborted"
  | "interrupted";

export interface ToolCall {
  readonly callId: string;
  readonly name: string;
  readonly args: unknown;
}

export interface WireError {
  readonly code: string;
  readonly message: string;
}

/** Event data by kind. Each kind is versioned on the server; fields only ever get added. */
export interface LedgerEventData {
  "run.started": { agent: string; input: { message: string }; model?: string };
  /** A soft stop was asked for; `run.interrupted` follows once the step stops. */
  "run.interrupt_requested": { reason: string };
  /** `attempt` > 1 means the step restarted after a crash: drop its earlier partial text. */
  "step.started": { step: number; attempt?: number };
  "model.delta": { step: number; text: string };
  /** The model's reasoning in a step, whole, before the text it led to. */
  "model.reasoning": { step: number; text: string };
  "model.completed": {
    step: number;
    text: string;
    toolCalls: ToolCall[];
    finishReason: string;
    usage: {
      inputTokens: number;
      outputTokens: number;
      cachedInputTokens?: number;
      reasoningTokens?: number;
    };
    model?: string;
  };
  "tool.started": {
    step: number;
    callId: string;
    name: string;
    args: unknown;
    effect: "pure" | "idempotent" | "irreversible";
    idempotencyKey: string;
  };
  "tool.completed": { step?: number; callId: string; name: string; result: unknown };
  "tool.failed": { step?: number; callId: string; name: string; error: WireError };
  "tool.outcome_unknown": { step?: number; callId: string; name: string };
  "approval.requested": { callId: string; name: string; args: unknown };
  "step.completed": { step: number };
  "run.waiting": { reason: string };
  "run.completed": { output: unknown };
  "run.failed": { error: WireError };
  "run.interrupted": { reason: string };
  "run.aborted": { reason: string };
  /** The application state, replaced whole; `version` grows by 1 per event. */
  "state.updated": {
    state: unknown;
    version: number;
    source: "client" | "tool" | "restore";
    /** The tool call that wrote it, and its step (`source: "tool"`). */
    callId?: string;
    step?: number;
    /** The checkpoint it was restored from (`source: "restore"`). */
    checkpoint?: number;
  };
}

export type LedgerEventKind = keyof LedgerEventData;

interface LedgerEventOf<K extends LedgerEventKind> {
  /** Gap-free sequence number within the session. */
  readonly seq: number;
  /** Opaque offset of this event; offsets sort as text. */
  readonly offset: string;
  readonly runId: string | null;
  readonly kind: K;
  readonly data: LedgerEventData[K];
  /** Milliseconds since the epoch. */
  readonly ts: number;
}

/**
 * One ledger event, discriminated by `kind`.
 *
 * Events of kinds this client does not know yet are passed through unchanged
 * at runtime (a newer server may add kinds); use {@link isKnownEvent} before
 * trusting `data`, or handle them in a `default` branch.
 */
export type LedgerEvent = { [K in LedgerEventKind]: LedgerEventOf<K> }[LedgerEventKind];

const KNOWN_KINDS: ReadonlySet<string> = new Set<LedgerEventKind>([
  "run.started",
  "run.interrupt_requested",
  "step.started",
  "model.delta",
  "model.reasoning",
  "model.completed",
  "tool.started",
  "tool.completed",
  "tool.failed",
  "tool.outcome_unknown",
  "approval.requested",
  "step.completed",
  "run.waiting",
  "run.completed",
  "run.failed",
  "run.interrupted",
  "run.aborted",
  "state.updated",
]);

/** True when this client version knows the event's kind (and so the shape of its data). */
export function isKnownEvent(event: { kind: string }): event is LedgerEvent {
  return KNOWN_KINDS.has(event.kind);
}

export type TerminalEventKind = "run.completed" | "run.failed" | "run.interrupted" | "run.aborted";

/** A terminal event ends a run for good (until a resume or retry starts it again). */
export function isTerminalEvent(
  event: LedgerEvent,
): event is Extract<LedgerEvent, { kind: TerminalEventKind }> {
  return (
    event.kind === "run.completed" ||
    event.kind === "run.failed" ||
    event.kind === "run.interrupted" ||
    event.kind === "run.aborted"
  );
}

export interface RunStarted {
  readonly runId: string;
  readonly session: string;
  readonly agent: string;
  readonly status: SessionStatus;
  /** Ledger offset just before the run's first event: read events from here. */
  readonly offset: string;
}

export interface StatusResponse {
  readonly agent: string;
  readonly session: string;
  readonly status: SessionStatus;
  readonly runId: string | null;
  /** The ledger tail: events after it have not happened yet. */
  readonly offset: string;
  readonly step?: number;
}

/** A message part. Parts of other types (from newer servers) pass through unchanged. */
export type MessagePart =
  | { readonly type: "text"; readonly text: string }
  | {
      readonly type: "tool-call";
      readonly callId: string;
      readonly name: string;
      readonly args: unknown;
    }
  | {
      readonly type: "tool-result";
      readonly callId: string;
      readonly name: string;
      readonly status: "pending" | "completed" | "failed" | "outcome_unknown";
      readonly result?: unknown;
      readonly error?: WireError;
    };

export interface Message {
  readonly id: string;
  /** Position in the conversation. */
  readonly index?: number;
  readonly runId?: string | null;
  readonly role: "user" | "assistant" | "tool";
  readonly parts: MessagePart[];
}

/** A point a run can go back to or a fork can start from (`GET .../checkpoints`). */
export interface Checkpoint {
  readonly id: string;
  readonly seq: number;
  readonly runId: string;
  readonly step: number;
  readonly kind: "run.started" | "step.completed";
  readonly ts: number;
}

export interface CheckpointsPage {
  readonly checkpoints: Checkpoint[];
  readonly nextCursor: string | null;
}

export interface MessagesPage {
  readonly messages: Message[];
  readonly nextCursor: string | null;
}

/** What interrupt/abort/resume/retry answer: at least the run and its status. */
export interface RunControlResponse {
  readonly runId: string;
  readonly status: SessionStatus;
  readonly offset?: string;
}

export interface Approval {
  readonly callId: string;
  readonly approved: boolean;
  /** Replacement arguments for the call, when the approver edits them. */
  readonly args?: unknown;
}

export type ResumeRequest =
  | { mode: "continue"; approvals?: Approval[] }
  | { mode: "with_message"; message: string; approvals?: Approval[] }
  | { mode: "from_checkpoint"; checkpointId: string; approvals?: Approval[] };

export type RetryMode = "from_checkpoint" | "from_start";

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

export interface ForkResponse {
  readonly session: string;
}
