import { type ChatHistoryQuery, readChatHistoryPage } from "./chat-history.ts";
import { type EventStream, type EventsOptions, openEventStream } from "./event-stream.ts";
import { type HttpContext, requestJson } from "./http.ts";
import { type LiveSession, openLiveSession } from "./live-session.ts";
import type { SocketOptions } from "./socket-session.ts";
import type {
  Approval,
  ChatHistoryPage,
  CheckpointsPage,
  ForkResponse,
  MessagesPage,
  ProjectionStatus,
  ProjectionsList,
  ResumeRequest,
  RetryMode,
  RunControlResponse,
  RunStarted,
  ScheduleBody,
  SchedulesList,
  ScheduleView,
  SessionSnapshot,
  SetStateResponse,
  StartFields,
  StateResponse,
  StatusResponse,
  UsageView,
} from "./types.ts";
import { startBody } from "./types.ts";

export interface CallOptions {
  readonly signal?: AbortSignal;
}

/** What a start may carry besides its message (StartFields), and its signal. */
export interface StartOptions extends CallOptions, StartFields {}

/**
 * One agent session: `POST/GET /agents/:agent/:session/...`. Every method
 * takes an `AbortSignal`; cancelling rejects with the signal's reason.
 *
 * @example
 * const session = client.session("assistant", "s1");
 * const run = await session.start("What is 2+3?");
 * for await (const event of session.events({ offset: run.offset })) console.info(event.kind);
 */
export class AgentSession {
  readonly agent: string;
  readonly id: string;
  readonly #ctx: HttpContext;
  readonly #base: string;

  constructor(ctx: HttpContext, agent: string, id: string) {
    this.#ctx = ctx;
    this.agent = agent;
    this.id = id;
    this.#base = `/agents/${encodeURIComponent(agent)}/${encodeURIComponent(id)}`;
  }

  /**
   * Starts a run (`POST .../runs`), with files and model options, seed state (`state`), earlier
   * conversation before the message (`messages`) and the app's `metadata` if given. Rejects with
   * code `run_active` (409, `details.runId`) if one is running, and `invalid_request` (400) for
   * a bad file, option, state or message.
   */
  start(message: string, options: StartOptions = {}): Promise<RunStarted> {
    return this.#post("/runs", startBody(message, options), options);
  }

  status(options: CallOptions = {}): Promise<StatusResponse> {
    return requestJson(this.#ctx, `${this.#base}/status`, { signal: options.signal });
  }

  /** Token usage per run and in all (with cost when the server has prices). */
  usage(options: CallOptions = {}): Promise<UsageView> {
    return requestJson(this.#ctx, `${this.#base}/usage`, { signal: options.signal });
  }

  /** The whole session as of one offset: messages, state, status; read on from `offset`. */
  snapshot(options: CallOptions = {}): Promise<SessionSnapshot> {
    return requestJson(this.#ctx, `${this.#base}/snapshot`, { signal: options.signal });
  }

  /** The session's schedules, the stuck claims among them, and the trigger kinds it knows. */
  schedules(options: CallOptions = {}): Promise<SchedulesList> {
    return requestJson(this.#ctx, `${this.#base}/schedules`, { signal: options.signal });
  }

  /** Schedules a trigger: exactly one of `at`, `delayMs` or `cron`; `key` replaces a schedule. */
  schedule(body: ScheduleBody, options: CallOptions = {}): Promise<ScheduleView> {
    return this.#post("/schedules", body, options);
  }

  /** Cancels the schedule `key`; rejects with `unknown_schedule` (404) when there is none. */
  cancelSchedule(key: string, options: CallOptions = {}): Promise<{ cancelled: string }> {
    return requestJson(this.#ctx, `${this.#base}/schedules`, {
      method: "DELETE",
      query: { key },
      signal: options.signal,
    });
  }

  /** The server's application projections and whether each needs a rebuild in this session. */
  projections(options: CallOptions = {}): Promise<ProjectionsList> {
    return requestJson(this.#ctx, `${this.#base}/projections`, { signal: options.signal });
  }

  /**
   * Rebuilds an application projection from the ledger (needs the `admin` scope). Rejects
   * with `unknown_projection` (404) for a name the server does not have.
   */
  rebuildProjection(name: string, options: CallOptions = {}): Promise<ProjectionStatus> {
    return this.#post("/projections", { rebuild: name }, options);
  }

  /**
   * The session's application state and its version. `T` is what you expect it to be
   * (the server checks writes against the agent's `stateSchema`; reads are not checked here).
   */
  state<T = unknown>(options: CallOptions = {}): Promise<StateResponse<T>> {
    return requestJson(this.#ctx, `${this.#base}/state`, { signal: options.signal });
  }

  /**
   * Replaces the state with compare-and-set: it commits only if the state is still at
   * `expectedVersion`. Otherwise rejects with `StateVersionConflictError` (409, with
   * `currentVersion`): read again, reapply your change, retry.
   * @example
   * const { state, version } = await session.state<{ count: number }>();
   * await session.setState({ count: state.count + 1 }, { expectedVersion: version });
   */
  setState<T>(
    state: T,
    options: CallOptions & { expectedVersion: number },
  ): Promise<SetStateResponse> {
    return requestJson(this.#ctx, `${this.#base}/state`, {
      method: "PUT",
      body: { state, expectedVersion: options.expectedVersion },
      signal: options.signal,
    });
  }

  /** One page of the messages projection; pass `nextCursor` back for the next page. */
  messages(
    options: CallOptions & { cursor?: string | undefined; limit?: number | undefined } = {},
  ): Promise<MessagesPage> {
    return requestJson(this.#ctx, `${this.#base}/messages`, {
      query: { cursor: options.cursor, limit: options.limit },
      signal: options.signal,
    });
  }

  /**
   * One page of the conversation as a chat restores it (`GET .../chat-history`): the newest
   * `limit` turns (1-100; the server's default 50) before `before` (a `prevCursor` of a newer
   * page; default: the newest), oldest first, within 4 MiB of JSON (a page may hold fewer turns,
   * never none, with a `prevCursor` for the rest). A turn is `{ runId, messages, chunks }`: the
   * user messages that started the run or resumed it with a message, as UIMessages
   * (`{ id, role: "user", parts }`), and its answer as AI SDK UI message stream chunks (null
   * for `activeRunId`, the run still moving, which `GET /chat/:agent/:id/stream` resumes). `prevCursor` is null once the first turn is in.
   * `toChatHistory(page)` from `@durable-agents/client/chat` rebuilds the answers as UIMessages
   * with the AI SDK (`ai`, an optional peer, is not loaded by this entry). Rejects with
   * `invalid_request` (400) for a bad `limit` or `before`, `missing_scope` (403) without `read`.
   */
  chatHistory(options: CallOptions & ChatHistoryQuery = {}): Promise<ChatHistoryPage> {
    return readChatHistoryPage(this.#ctx, this.#base, options, options.signal);
  }

  /** One page of checkpoints (run starts and step ends), oldest first; ids feed resume and fork. */
  checkpoints(
    options: CallOptions & {
      cursor?: string | undefined;
      limit?: number | undefined;
      runId?: string;
    } = {},
  ): Promise<CheckpointsPage> {
    return requestJson(this.#ctx, `${this.#base}/checkpoints`, {
      query: { cursor: options.cursor, limit: options.limit, runId: options.runId },
      signal: options.signal,
    });
  }

  /**
   * The ledger from `offset` on, live over SSE by default. Reconnects with
   * backoff and resumes from the last confirmed offset; every event arrives
   * exactly once, in order.
   */
  events(options: EventsOptions = {}): EventStream {
    return openEventStream(this.#ctx, this.#base, options);
  }

  /**
   * One live WebSocket for this session: the ledger in, commands out
   * (start, interrupt, abort, resume, approve), reconnecting by itself.
   * Call `close()` when done.
   */
  connect(options: SocketOptions = {}): LiveSession {
    return openLiveSession(this.#ctx, this.#base, options);
  }

  /** Soft stop: the in-flight model call is aborted, partial output kept; resumable. */
  interrupt(options: CallOptions & { reason?: string } = {}): Promise<RunControlResponse> {
    return this.#post("/interrupt", reasonBody(options.reason), options);
  }

  /** Hard stop: the run ends for good with `run.aborted`. */
  abort(options: CallOptions & { reason?: string } = {}): Promise<RunControlResponse> {
    return this.#post("/abort", reasonBody(options.reason), options);
  }

  /** Closes the session for good: its ledger ends (readers see the stream closed). */
  close(options: CallOptions & { reason?: string } = {}): Promise<StatusResponse> {
    return this.#post("/close", reasonBody(options.reason), options);
  }

  /**
   * Moves a paused, interrupted or failed run again: `{ mode: "continue" }`,
   * `{ mode: "with_message", message }`, `{ mode: "from_checkpoint", checkpoint }`
   * (a checkpoint id), or `approvals` (alone: with a message or a checkpoint, a 400). The
   * body is the server's own (`ResumeBody`).
   */
  resume(request: ResumeRequest, options: CallOptions = {}): Promise<RunControlResponse> {
    return this.#post("/resume", request, options);
  }

  /**
   * Answers a call that waits (a resume with one decision): approves or denies it, with
   * `args` to run it with other arguments; or, for a client-side tool (`client: true`), gives
   * its output as `result` (JSON) with `approved: true`, and the call completes with it.
   */
  approve(
    callId: string,
    approved: boolean,
    options: CallOptions & { args?: unknown; result?: unknown } = {},
  ): Promise<RunControlResponse> {
    const approval: Approval = {
      callId,
      approved,
      ...(options.args === undefined ? {} : { args: options.args }),
      ...(options.result === undefined ? {} : { result: options.result }),
    };
    return this.resume({ mode: "continue", approvals: [approval] }, options);
  }

  /** Retries a failed run from its latest checkpoint (or `options.checkpoint`), or from its start. */
  retry(
    mode: RetryMode,
    options: CallOptions & { checkpoint?: string } = {},
  ): Promise<RunControlResponse> {
    const body =
      options.checkpoint === undefined ? { mode } : { mode, checkpoint: options.checkpoint };
    return this.#post("/retry", body, options);
  }

  /** A new session whose ledger is this one's prefix up to `checkpointId`. */
  fork(
    checkpointId: string,
    options: CallOptions & { session?: string } = {},
  ): Promise<ForkResponse> {
    const body =
      options.session === undefined
        ? { checkpoint: checkpointId }
        : { checkpoint: checkpointId, session: options.session };
    return this.#post("/fork", body, options);
  }

  #post<T>(path: string, body: unknown, options: CallOptions): Promise<T> {
    return requestJson(this.#ctx, this.#base + path, {
      method: "POST",
      body,
      signal: options.signal,
    });
  }
}

function reasonBody(reason: string | undefined): { reason?: string } {
  return reason === undefined ? {} : { reason };
}
