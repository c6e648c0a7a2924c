/**
 * Ledger event kinds and their payloads. Every fact about a session is one of
 * these. A kind's payload shape only ever grows (new optional fields); a
 * breaking change gets a new kind name.
 */
import type { ModelOptions } from "../agent/model-options.ts";
import type { UserFile } from "../agent/user-files.ts";

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

export type ToolEffect = "pure" | "idempotent" | "irreversible";

export interface ErrorInfo {
  readonly code: string;
  readonly message: string;
}

/**
 * Tokens of one model call (or a sum of them). `inputTokens` includes the cached ones and
 * `outputTokens` the reasoning ones, as the AI SDK reports them (`usage.inputTokens.total`,
 * `.cacheRead`; `usage.outputTokens.total`, `.reasoning`); the parts are absent when zero or
 * not reported by the provider.
 */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Input tokens read from the provider's prompt cache (OpenAI `cached_tokens`, Anthropic `cache_read_input_tokens`). */
  readonly cachedInputTokens?: number;
  /** Output tokens spent on reasoning (OpenAI `reasoning_tokens`, Anthropic `thinking_tokens`). */
  readonly reasoningTokens?: number;
}

/** The tool call of a parent session that a child session (a sub-agent) answers. */
export interface ParentRef {
  readonly agent: string;
  readonly session: string;
  readonly runId: string;
  readonly step: number;
  readonly callId: string;
}

export interface ToolCallRequest {
  readonly callId: string;
  readonly name: string;
  readonly args: JsonValue;
}

/** Who replaced the application state: a client (compare-and-set), a tool call, or a checkpoint restore. */
export type StateSource =
  | { readonly source: "client" }
  | { readonly source: "tool"; readonly step: number; readonly callId: string }
  | { readonly source: "restore"; readonly checkpoint: number };

/**
 * A message of earlier conversation a client hands in (a start's history, a resume's additions),
 * as recorded: a user message's files as `FileUIPart`s (agent/user-files.ts), after its text.
 */
export interface PriorMessage {
  readonly role: "user" | "assistant";
  readonly content: string;
  readonly files?: UserFile[];
}

export interface EventPayloads {
  "run.started": {
    agent: string;
    /**
     * The user message: its text, then its files and images (`FileUIPart`s, agent/user-files.ts).
     * `messages`: earlier conversation placed before it (a chat moved from elsewhere).
     */
    input: { message: string; files?: UserFile[]; messages?: PriorMessage[] };
    /** The run's model settings (`POST .../runs` `modelOptions`), over the agent's; every step of the run gets them. */
    modelOptions?: ModelOptions;
    /**
     * `"workflow"`: a Workflow instance drives the run (`POST .../runs` `{executor}` or the
     * agent's `executor`). Absent: the session object's alarm does.
     */
    executor?: "workflow";
    /** The app's own data about the run (`POST .../runs` `{metadata}`): hooks and onComplete see it. */
    metadata?: { [key: string]: JsonValue };
    model?: string;
    parent?: ParentRef;
    /**
     * The earlier run this one answers again (a chat's regenerate): its messages leave the
     * conversation, as a retry from the checkpoint before its user message would hide them.
     */
    replaces?: string;
    /**
     * The run's trace context, when the server traces runs (see tracing/run-tracer.ts);
     * `parentSpanId`: the parent session's step span, for a sub-agent's run.
     */
    trace?: { traceId: string; spanId: string; parentSpanId?: string };
  };
  "run.interrupt_requested": { reason: string };
  "step.started": { step: number; attempt: number };
  "model.delta": { step: number; text: string };
  /**
   * The model's reasoning (thinking) as it streams, coalesced like `model.delta` (its own
   * kind, so a reader that knows only `model.delta` never shows reasoning as the answer). A
   * block's deltas come before its `model.reasoning`; a block cut short (an interrupt, a
   * lost attempt) has deltas and no `model.reasoning`. AG-UI `REASONING_MESSAGE_CONTENT` and
   * UI-stream `reasoning-delta` show it.
   */
  "model.reasoning_delta": { step: number; text: string };
  /**
   * The end of one reasoning block of a step, with its whole text: before the step's next
   * text delta or tool call, or at the end of the call. Never sent back to the model. Closes
   * the AG-UI `REASONING_*` message and the UI-stream reasoning part its deltas opened (or
   * shows the whole block at once, for a ledger written before reasoning streamed).
   */
  "model.reasoning": { step: number; text: string };
  "model.completed": {
    step: number;
    text: string;
    toolCalls: ToolCallRequest[];
    finishReason: string;
    usage: TokenUsage;
    model: string;
  };
  "tool.started": {
    step: number;
    callId: string;
    name: string;
    args: JsonValue;
    effect: ToolEffect;
    idempotencyKey: string;
  };
  "tool.completed": { step: number; callId: string; name: string; result: JsonValue };
  "tool.failed": { step: number; callId: string; name: string; error: ErrorInfo };
  "tool.outcome_unknown": { step: number; callId: string; name: string };
  "step.completed": { step: number };
  /** A tool with needsApproval waits for a human: answered through `resume` with approvals. */
  "approval.requested": {
    step: number;
    callId: string;
    name: string;
    args: JsonValue;
    /** A client-side tool's call (`defineTool({ client: true })`): the client sends its output. */
    client?: true;
  };
  "approval.resolved": {
    step: number;
    callId: string;
    approved: boolean;
    args?: JsonValue;
    reason?: string;
    /** The answer carried the call's result (a client-side tool's output): no approval to show. */
    withResult?: boolean;
  };
  /** A paused, interrupted or failed run moves again. */
  "run.resumed": {
    mode:
      | "continue"
      | "with_message"
      | "from_checkpoint"
      | "approvals"
      | "retry_from_checkpoint"
      | "retry_from_start";
    message?: string;
    /** Messages added to the conversation before `message` (`POST .../resume` `{messages}`). */
    messages?: PriorMessage[];
    checkpoint?: number;
  };
  /** A child session started by a tool call (a sub-agent), and its answer. */
  "subagent.started": { step: number; callId: string; agent: string; session: string };
  "subagent.completed": {
    step: number;
    callId: string;
    agent: string;
    session: string;
    output: JsonValue;
    usage: TokenUsage;
  };
  /** A tool call handed to a Workflow instance (`executor: "workflow"`); its result comes back as tool.completed/failed. */
  "workflow.started": { step: number; callId: string; name: string; instanceId: string };
  /**
   * The tools an MCP server offered this run (`tools/list`, filtered and renamed as the
   * agent declares), with a SHA-256 digest of them; a redriven step offers the model these.
   * `previousDigest`: the digest this session last recorded for the server, when there was one.
   */
  "mcp.tools_listed": {
    server: string;
    tools: { name: string; remoteName: string; description: string; inputSchema: JsonValue }[];
    digest: string;
    previousDigest?: string;
  };
  /**
   * The older part of the conversation is replaced, in the model's prompt, by a summary (the
   * agent's `context` option, agent/context-compaction.ts): the prompt is the system message,
   * the summary as a user message, then the messages with an index above `throughIndex`. The
   * summary covers every message the prompt sent before (the previous compaction's summary
   * included). Committed before the model call of `step` it serves; the conversation that
   * clients read keeps every message. A regenerate or rewind that hides a message at or below
   * `throughIndex` drops it (the messages projection). `summary` is "" for a plain window
   * (`summarize: false`). `model` and `usage`: the summarizer's model call, when the default
   * summarizer made one (counted as that model's usage).
   */
  "context.compacted": {
    step: number;
    throughIndex: number;
    summary: string;
    /** Model-visible messages this compaction summarized (beyond the previous summary). */
    messages: number;
    model?: string;
    usage?: TokenUsage;
  };
  /**
   * A summary the default summarizer's model call wrote that no `context.compacted` carries:
   * refused (`reason`: its error's code, `empty_summary` or `summary_too_large`), cut short by
   * an interrupt (`interrupted`), or made needless by a compaction committed meanwhile
   * (`superseded`). Recorded, through the step's guarded commit, for its `usage` alone: the
   * provider bills the call. Only when the call reported usage; the prompt is unchanged.
   */
  "context.summary_discarded": {
    step: number;
    model: string;
    usage: TokenUsage;
    reason: string;
  };
  /** The session takes no more events: readers see the end of the stream (Stream-Closed). */
  "session.closed": { reason: string };
  /** Scheduled work that gave up after its retries, or whose kind is not registered. */
  "trigger.failed": { kind: string; key: string; error: ErrorInfo; attempts: number };
  /**
   * A schedule was cancelled (`DELETE .../schedules?key=`). `running`: a run of it
   * was under way; under the kind's `cancellation` mode `cooperative` its signal
   * was aborted, under `ignored` it runs to its end (and is not run again).
   */
  "trigger.cancelled": {
    kind: string;
    key: string;
    running: boolean;
    cancellation: "cooperative" | "ignored";
    reason: string;
  };
  /**
   * The application state, replaced whole. `version` is the previous one + 1
   * (0 is the agent's initial state, before any of these).
   */
  "state.updated": { state: JsonValue; version: number } & StateSource;
  /** An application metric, recorded through the ledger so it is projected like token usage. */
  "usage.recorded": { metric: string; value: number; tags?: Record<string, string> };
  "run.waiting": { reason: string };
  "run.completed": { output: JsonValue };
  "run.failed": { error: ErrorInfo };
  "run.interrupted": { reason: string };
  "run.aborted": { reason: string };
  /**
   * An application's own fact (`defineEvent`, app-events/define-event.ts): the payload its
   * schema validated. The `app.` namespace is the application's; no runtime kind is in it.
   */
  [kind: AppEventKind]: JsonValue;
}

/** The namespace of application event kinds. */
export type AppEventPrefix = "app.";

/** The kinds of application events: `app.<kind>` (see `defineEvent`). */
export type AppEventKind = `${AppEventPrefix}${string}`;

/** The runtime's own kinds (everything but the application's `app.*`). */
export type RuntimeEventKind = Exclude<keyof EventPayloads, AppEventKind>;

export type EventKind = keyof EventPayloads;

/** An event before it has a place in the ledger. */
export interface NewEvent<K extends EventKind = EventKind> {
  readonly kind: K;
  readonly runId: string | null;
  readonly data: EventPayloads[K];
  /** Only when copying history (a fork): the original time. Otherwise the clock's now. */
  readonly ts?: number;
}

/** An event as stored: `seq` is its gap-free position, starting at 1. */
export type LedgerEvent<K extends EventKind = EventKind> = {
  [P in K]: { seq: number; runId: string | null; kind: P; data: EventPayloads[P]; ts: number };
}[K];

/** Events after which a run no longer moves on its own. */
export const TERMINAL_KINDS: ReadonlySet<EventKind> = new Set([
  "run.completed",
  "run.failed",
  "run.interrupted",
  "run.aborted",
]);
