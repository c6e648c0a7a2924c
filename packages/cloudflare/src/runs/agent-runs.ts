/**
 * Run handles for Worker code: start a run and follow, steer and wait for it without HTTP.
 *
 * Invariants:
 * 1. One door. Every write is a session command sent over DO RPC (`storeCall`, op `command`)
 *    to `dispatchCommand` in the session object: the same schema, rules, hooks and errors as
 *    `POST .../runs`, `.../interrupt`, `.../abort`, `.../resume` and the WebSocket's frames.
 *    Nothing here decides anything about a run.
 * 2. A handle bound to a run (from `execute` or `send`) acts only on that run: its interrupt,
 *    abort and resume carry the run id as a precondition, checked in the object in the step
 *    where the command decides (409 `run_not_current` once a later run started).
 * 3. `canResume` is the resume's own decision, run without committing (SessionRuntime.canResume),
 *    and where a run stops is the rule the UI stream uses (core/src/store/run-calls.ts).
 * 4. Authority: Worker code holding the namespace binding is trusted (TRUSTED_CALLER,
 *    transport `"store"`), as for createStore; command hooks still run.
 *
 * Why DO RPC rather than the object's `fetch`: `fetch` runs the auth in front of the routes
 * (a token, or the app's `authorize`), which Worker code would have to satisfy by minting
 * tokens with the app's secret; the RPC method already exists for createStore, carries typed
 * refusals as data, and lands on the same command layer.
 */
import {
  type AgentDefinition,
  type JsonValue,
  type ResumeBody,
  type ResumeCheck,
  RunAbortedError,
  RunFailedError,
  type RunOutcome,
  type StartBody,
  type StartedRun,
  type StatusResponse,
  type StatusView,
  type WireEvent,
} from "@durable-agents/core";
import { checkId } from "../agent-object/session-path.ts";
import { sessionNamespace } from "../agent-object/session-peers.ts";
import { sessionCall } from "../store/store-rpc.ts";
import { type Call, followRun, type RetryOptions, waitForOutcome } from "./follow.ts";

export interface AgentRunsOptions {
  /** The session objects' Durable Object binding (createAgentServer's `binding`). Default "AGENTS". */
  readonly binding?: string;
  /** How `stream()` and `result()` retry a read that failed. */
  readonly retry?: RetryOptions;
}

/** An agent, by its definition or its name. */
export type AgentRef = string | Pick<AgentDefinition, "name">;

export interface ExecuteOptions {
  /**
   * The session to run in. Default: a new session (a random UUID). An existing session
   * continues its conversation; 409 `run_active` while it has a run running or waiting.
   */
  readonly session?: string;
}

export interface StreamOptions {
  /**
   * Read the events after this offset: an event's `offset` from an earlier stream, to go on
   * where it stopped. Default: where the run started. `-1` is the session's start. Only this
   * run's events come: from an offset past its stop (a later run's), the stream is empty.
   */
  readonly offset?: string;
  /** Ends the stream (quietly: the iteration just stops). */
  readonly signal?: AbortSignal;
}

/** A run that stopped without failing: completed, interrupted, or waiting for a decision. */
export type RunResult = Exclude<RunOutcome, { status: "failed" | "aborted" }>;

/** The session's status (as `GET .../status`) and its application state (as `GET .../state`). */
export type RunState = StatusResponse & {
  readonly state: JsonValue;
  /** The state's version (0: the agent's initial state). */
  readonly stateVersion: number;
};

/**
 * One run of one session, for Worker code. Every method rejects with a `DurableAgentsError`
 * carrying the `code`, `status` and `details` the matching HTTP route gives, as the subclass
 * its status names (`ConflictError` for 409, `BadRequestError` for 400...). A before hook's
 * refusal is the app's own status, code and message.
 */
export interface RunHandle {
  readonly agent: string;
  readonly session: string;
  /**
   * The run this handle follows and steers: the one `execute` or `send` started. Undefined
   * for `getHandle`: each call then acts on the session's latest run.
   */
  readonly runId: string | undefined;
  /**
   * The session's ledger from `offset` (default: the run's start), each event with its
   * `offset`, live: the iteration ends after the event where the run stops (completed,
   * failed, interrupted, aborted, or waiting for a decision; not while it waits on a
   * sub-agent), or when `signal` aborts. Reads that fail (the session object restarted) are
   * retried from the last offset: no event is lost or repeated. To go on after a resume,
   * stream again from the last event's `offset`. 409 `no_run` on a session without runs.
   * Never another run's events: a handle whose run a later run superseded ends at its stop.
   */
  stream(options?: StreamOptions): AsyncIterable<WireEvent>;
  /**
   * Waits until the run stops. Resolves `{ status: "completed", output }`, `{ status:
   * "interrupted", reason }` (it can resume) or `{ status: "waiting", reason, pending }` (calls
   * that need `resume({ approvals })`), each with `runId`, `step` and `offset`. Rejects with
   * `RunFailedError` (409 `run_failed`: `runError` has the run's error) or `RunAbortedError`
   * (409 `run_aborted`, with the abort's `reason`). With `signal` aborted, rejects with its
   * reason.
   */
  result(options?: { readonly signal?: AbortSignal }): Promise<RunResult>;
  /** `POST .../interrupt`: a soft stop at the run's next boundary. 409 `no_active_run`. */
  interrupt(reason?: string): Promise<StatusView>;
  /** `POST .../abort`: a hard, terminal stop. 409 `no_active_run`. */
  abort(reason?: string): Promise<StatusView>;
  /**
   * `POST .../resume`: `{ mode: "continue" | "with_message" | "from_checkpoint", message?,
   * messages?, checkpoint? }` or `{ approvals: [{ callId, approved, args?, result?, reason? }] }`.
   */
  resume(options: ResumeBody): Promise<StatusView>;
  /**
   * Whether `resume(options)` (default `{}`: continue) would be accepted now:
   * `{ canResume: true }` or `{ canResume: false, code, reason }` with the error the resume
   * would give. The resume command's own decision, run without committing; an app's
   * `beforeResume` hook is not asked. Options the resume's schema refuses (an unknown field, a
   * mode it does not have) are no answer: it throws the resume's 400 `invalid_request`, as
   * `resume` would.
   */
  canResume(options?: ResumeBody): Promise<ResumeCheck>;
  /** Status, run id, step, offset, closed, and the application state with its version. */
  getState(): Promise<RunState>;
  /**
   * A follow-up run in the same session (`POST .../runs`): a message, or the whole start
   * body (`{ input: { message, state?, messages?, files? }, modelOptions?, metadata? }`).
   * Resolves to the new run's handle. 409 `run_active` while a run is running or waiting.
   */
  send(message: string | StartBody): Promise<RunHandle>;
}

export interface AgentRuns {
  /**
   * Starts a run (`POST .../runs`) with a message or the whole start body, in a new session
   * or `options.session`, and resolves to its handle.
   */
  execute(agent: AgentRef, input: string | StartBody, options?: ExecuteOptions): Promise<RunHandle>;
  /**
   * A handle on a session's latest run, whatever started it (no I/O until a method is
   * called). 400 `invalid_path` for a malformed agent name or session id.
   */
  getHandle(agent: AgentRef, session: string): RunHandle;
}

/**
 * Run handles over the session objects bound as `options.binding`. Throws a 500
 * `binding_missing` (BindingMissingError) at once when that binding is not a Durable Object
 * namespace.
 * @example
 * const runs = agentRuns(env);
 * const run = await runs.execute(assistant, "What is 2+3?");
 * for await (const event of run.stream()) if (event.kind === "model.delta") log(event.data.text);
 * const { output } = await run.result();
 */
export function agentRuns(env: object, options: AgentRunsOptions = {}): AgentRuns {
  const bindings = env as Record<string, unknown>;
  const binding = options.binding ?? "AGENTS";
  sessionNamespace(bindings, binding, "agentRuns(env, { binding })");
  const retry = options.retry ?? {};
  const open = (agent: AgentRef, session: string): RunHandle => {
    const name = checkId(typeof agent === "string" ? agent : agent.name, "agent name");
    const id = checkId(session, "session id");
    return runHandle(sessionCall(bindings, binding, name, id), name, id, retry);
  };
  return {
    async execute(agent, input, { session = crypto.randomUUID() } = {}) {
      return open(agent, session).send(input);
    },
    getHandle: (agent, session) => open(agent, session),
  };
}

/** `started`: the run a handle is bound to, and the offset it started at (its stream's default). */
function runHandle(
  call: Call,
  agent: string,
  session: string,
  retry: RetryOptions,
  started?: Pick<StartedRun, "runId" | "offset">,
): RunHandle {
  const runId = started?.runId;
  const bound = runId === undefined ? {} : { runId };
  const command = <T>(name: string, input: unknown, on = bound) =>
    call<T>({ op: "command", name, input, ...on });
  const withReason = (reason: string | undefined) => (reason === undefined ? {} : { reason });
  return {
    agent,
    session,
    runId,
    stream: (options = {}) =>
      followRun(
        call,
        { ...bound, offset: options.offset ?? started?.offset },
        options.signal,
        retry,
      ),
    async result(options = {}) {
      const outcome = await waitForOutcome(call, runId, options.signal, retry);
      if (outcome === undefined) throw options.signal?.reason ?? new Error("aborted");
      if (outcome.status === "failed")
        throw new RunFailedError(session, outcome.runId, outcome.step, outcome.error);
      if (outcome.status === "aborted")
        throw new RunAbortedError(session, outcome.runId, outcome.step, outcome.reason);
      return outcome;
    },
    interrupt: (reason) => command("interrupt", withReason(reason)),
    abort: (reason) => command("abort", withReason(reason)),
    resume: (options) => command("resume", options),
    canResume: (options = {}) => call({ op: "canResume", input: options, ...bound }),
    getState: () => call({ op: "state" }),
    async send(message) {
      const body: StartBody = typeof message === "string" ? { input: { message } } : message;
      const run = await command<StartedRun>("start", body, {});
      return runHandle(call, agent, session, retry, run);
    },
  };
}
