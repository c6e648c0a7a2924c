import type { ParseArgsConfig, parseArgs } from "node:util";
import type { RetryPolicy } from "../backoff.ts";
import type { DurableAgentsClient } from "../client.ts";
import type { AgentSession } from "../session.ts";
import type { COMMON_OPTIONS } from "./args.ts";
import type { Style } from "./render.ts";

/** What a command gets: a client and where to write. Commands return an exit code. */
export interface CliContext {
  readonly client: DurableAgentsClient;
  readonly url: string;
  /** Whether requests carry a token (`--token` or `DURABLE_AGENTS_TOKEN`). */
  readonly sentToken: boolean;
  readonly json: boolean;
  readonly style: Style;
  readonly signal: AbortSignal;
  out(text: string): void;
  err(text: string): void;
  /** Retry policy for live reads: reports reconnects on stderr. */
  readonly retry: RetryPolicy;
  /** Set by a command: what to tell the user if Ctrl-C detaches it. */
  onDetach: (() => string) | undefined;
  /** Set by `openSession`: the session the command works on, which error advice names. */
  target: Target | undefined;
}

/** A session as the CLI names it, `<agent>/<session>`. */
export interface Target {
  readonly agent: string;
  readonly session: string;
}

/** The client's handle on a session, recorded as the command's target for error advice. */
export function openSession(ctx: CliContext, agent: string, session: string): AgentSession {
  ctx.target = { agent, session };
  return ctx.client.session(agent, session);
}

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

type ParseArgsOption = NonNullable<ParseArgsConfig["options"]>[string];

/** One flag: what parseArgs needs, plus what help prints (`--name <value>  description`). */
export type CliOption = ParseArgsOption & {
  /** The value's placeholder in help, e.g. "id" prints `--session <id>`. */
  readonly value?: string;
  readonly description: string;
};

export type Options = Readonly<Record<string, CliOption>>;

export type Parsed<T extends Options> = ReturnType<
  typeof parseArgs<{
    options: T & typeof COMMON_OPTIONS;
    allowPositionals: true;
    strict: true;
  }>
>;

export interface Command<T extends Options = Options> {
  readonly name: string;
  /** One line, shown in the command list. */
  readonly summary: string;
  /** The positionals after the command name, e.g. `<agent>/<session> <callId>`. */
  readonly usage: string;
  /** Paragraphs shown by `--help` between the usage line and the options. */
  readonly description?: string;
  /** Shown last by `--help`, one per line. */
  readonly examples?: readonly string[];
  readonly options: T;
  run(parsed: Parsed<T>, ctx: CliContext): Promise<number>;
}

/** Keeps each command's parsed flags typed by its own option spec. */
export function defineCommand<const T extends Options>(command: Command<T>): Command<T> {
  return command;
}
