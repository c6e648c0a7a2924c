import type { RunCompletedInfo } from "../agent/completion-hook.ts";
import type { SessionStatus, StatusView } from "../agent/session-runtime-options.ts";
import type { AppContext } from "../app-events/app-context.ts";
import type { Caller } from "../commands/caller.ts";
import type { CommandName, Transport } from "../commands/command.ts";

/** What every hook sees: the request and the session. */
export interface HookContext {
  /**
   * The HTTP request (a clone: its body is still readable). On another transport (a
   * WebSocket frame), the equivalent HTTP request built from the command: same method,
   * route and JSON body, no headers of the caller's; use `caller` for who sent it.
   */
  readonly request: Request;
  readonly agent: string;
  readonly session: string;
  readonly env: Record<string, unknown>;
}

/** The session's latest run as a hook sees it: its status (`idle` before any run), id and step. */
export interface ExecutionState {
  readonly status: SessionStatus;
  readonly runId: string | null;
  readonly step: number;
}

/**
 * What a command hook sees, on every transport: the command, its parsed input, its caller,
 * the session's execution state, and handles that act on the current run.
 * `emit` appends an app event at once (it stays even if the hook then refuses the command);
 * `projection` reads one. (No `schedule` here: it is itself a command and would run the hooks
 * again.)
 */
export interface CommandHookContext extends HookContext, Pick<AppContext, "emit" | "projection"> {
  readonly command: CommandName;
  /** The validated input: the same shape as the HTTP body (`{input:{message}}` for start). */
  readonly input: unknown;
  readonly caller: Caller;
  /** `http`, `websocket`, `hook` (a hook's own interrupt or abort), and more as surfaces are added. */
  readonly transport: Transport;
  /** The latest run when this hook was called (read again through `interrupt`'s result). */
  readonly execution: ExecutionState;
  /**
   * Interrupts the current run: the `interrupt` command, as a trusted caller, with transport
   * `hook` and no hooks of its own (so a hook cannot loop on itself). Resolves to the
   * session's status; 409 `no_active_run` when no run is running or waiting.
   */
  interrupt(reason?: string): Promise<StatusView>;
  /** Aborts the current run (terminal): the `abort` command, like `interrupt`. */
  abort(reason?: string): Promise<StatusView>;
}

/**
 * Runs before a command. Returns a Response to answer with it instead (on a WebSocket
 * its status and `{"error":{code,message}}` body become the `ok:false` result), or
 * throws a DurableAgentsError (rendered like any error); returns nothing to go on.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing lets the action run
export type BeforeHook = (ctx: CommandHookContext) => void | Response | Promise<void | Response>;
/**
 * Runs after a command succeeded. Sees its HTTP rendering (a clone); may return a
 * replacement (on a WebSocket its JSON body becomes the result, or the error if not 2xx).
 */
export type AfterHook = (
  ctx: CommandHookContext,
  response: Response,
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing keeps the response
) => void | Response | Promise<void | Response>;

/**
 * Server hooks. Command hooks (`beforeCommand`/`afterCommand` around every mutating
 * command, `before*`/`after*` around one) run on every transport, HTTP and WebSocket
 * alike: the command layer (`core/src/commands/`) calls them. `after*` run on success
 * only. `onComplete` runs at least once per completed run, as due work committed with
 * its `run.completed` (retried on a throw, redriven after a crash).
 */
export interface SessionHooks {
  /** Before every command (start, interrupt, abort, resume, retry, close, fork, state.set, schedules, usage.record). */
  readonly beforeCommand?: BeforeHook;
  /** After every command that succeeded, after its named after hook. */
  readonly afterCommand?: AfterHook;
  readonly beforeStart?: BeforeHook;
  readonly afterStart?: AfterHook;
  readonly beforeResume?: BeforeHook;
  readonly afterResume?: AfterHook;
  readonly beforeRetry?: BeforeHook;
  readonly afterRetry?: AfterHook;
  readonly onComplete?: (info: RunCompletedInfo) => void | Promise<void>;
  /**
   * How long one `onComplete` delivery may take (default 30 s). Past it the delivery counts
   * as failed (`info.signal` is aborted) and is retried, so a hung hook cannot hold up the
   * session's next runs.
   */
  readonly onCompleteTimeoutMs?: number;
  /** Runs before routing, for every session HTTP request. May return a new Request. */
  readonly transformRequest?: (
    request: Request,
    ctx: Omit<HookContext, "request">,
  ) => Request | Promise<Request>;
  /** Runs on every session HTTP response, errors included. */
  readonly transformResponse?: (
    response: Response,
    ctx: HookContext,
  ) => Response | Promise<Response>;
}

export type { RunCompletedInfo };
