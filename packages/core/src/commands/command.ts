import type { SessionRuntime } from "../agent/session-runtime.ts";
import type { TokenScope } from "../auth/session-token.ts";
import type { SessionPeers } from "../http/route.ts";
import type { SqlPort } from "../sql/port.ts";
import type { Schema, SchemaIssue } from "../validation/check.ts";

/**
 * The mutating session commands. Each is declared once (session-commands.ts) and every
 * transport (HTTP routes, WebSocket frames, AG-UI and UI-stream starts) parses into it.
 */
export type CommandName =
  | "start"
  | "interrupt"
  | "abort"
  | "resume"
  | "retry"
  | "close"
  | "fork"
  | "state.set"
  | "schedule.create"
  | "schedule.cancel"
  | "usage.record"
  | "projection.rebuild";

/** Which transport a command came through; hooks can tell them apart. */
export type Transport = "http" | "websocket" | (string & {});

/** What a command's `run` may touch: the session and, for forks, its peers. */
export interface CommandRunContext {
  readonly runtime: SessionRuntime;
  readonly sql: SqlPort;
  readonly peers?: SessionPeers;
}

/** A command's success: the HTTP status it renders as, and its JSON result. */
export interface CommandResult<R = unknown> {
  readonly status: number;
  readonly result: R;
}

/**
 * One session command: its input schema, the scope a caller needs, the named
 * hook pair around it (besides `beforeCommand`/`afterCommand`, which wrap every
 * command), and where it lives on HTTP. Its errors are the typed
 * `DurableAgentsError`s `run` throws (and 400 `invalid_request` for bad input).
 */
export interface SessionCommand<I = unknown, R = unknown> {
  readonly name: CommandName;
  readonly scope: TokenScope;
  /** Validates the input; the same shape as the HTTP body (or query, for DELETE). */
  readonly input: Schema<I>;
  /** How the input is named in validation errors: "the start input". */
  readonly what: string;
  /** The named hook pair (`beforeStart`/`afterStart`...), if the command has one. */
  readonly hooks?: readonly [
    "beforeStart" | "beforeResume" | "beforeRetry",
    "afterStart" | "afterResume" | "afterRetry",
  ];
  /** The HTTP route that carries it: `POST .../runs`. Other transports build their hook request from it. */
  readonly http: { readonly method: "POST" | "PUT" | "DELETE"; readonly action: string };
  /**
   * Another session of the same agent the command writes, read from its input (a fork's
   * `session`): the caller needs `write` there as well as its `scope` here, asked by
   * dispatchCommand of `CommandCall.authorizeSession` (403 `wrong_session` without). Undefined
   * when the input names none (a fork into a new session whose id the server picks).
   */
  writesSession?(input: I): string | undefined;
  /**
   * A rule of the input that needs the session to decide (a fork's `session` may not be its
   * source's): the issue, if the input breaks it. dispatchCommand checks it with the input,
   * before anything else reads it: a 400 `invalid_request` naming the field.
   */
  refuses?(input: I, ctx: CommandRunContext): SchemaIssue | undefined;
  /**
   * Another command this one performs in its own append, read from its input and the session
   * (a start that `replaces` or `ends` the active run aborts it): dispatchCommand checks the
   * caller's scope for it and runs its before hooks (`beforeCommand` sees it by its own name,
   * with a request of its own route) after this one's, so a rule that refuses it refuses this
   * too. Undefined when it performs none.
   */
  implies?(input: I, ctx: CommandRunContext): ImpliedCommand | undefined;
  run(ctx: CommandRunContext, input: I): Promise<CommandResult<R>>;
}

/** A command another performs in its own append (`SessionCommand.implies`), with its input. */
export interface ImpliedCommand {
  readonly name: CommandName;
  readonly input: unknown;
}

/** Declares a command (keeps the input type tied to `run`). */
export function defineCommand<I, R>(command: SessionCommand<I, R>): SessionCommand<I, R> {
  return command;
}
