/**
 * The `durable-agents` CLI. `main` is pure over its IO so tests can drive it
 * in-process; `runCli` wires it to the real process (argv, stdout, Ctrl-C).
 */
import { createClient } from "../client.ts";
import { DurableAgentsClientError } from "../errors.ts";
import { inCliTerms } from "./advice.ts";
import { parse, resolveToken, resolveUrl, UsageError } from "./args.ts";
import { authAdvice } from "./auth.ts";
import { chat } from "./commands/chat.ts";
import { projections } from "./commands/projections.ts";
import {
  abort,
  approve,
  checkpoints,
  fork,
  interrupt,
  messages,
  resume,
  retry,
  status,
} from "./commands/session.ts";
import { state } from "./commands/state.ts";
import { tail } from "./commands/tail.ts";
import { close, schedules, sessions, snapshot, usage } from "./commands/views.ts";
import { type CliContext, type Command, EXIT } from "./context.ts";
import { BIN, commandHelp, mainHelp } from "./help.ts";
import { ansi, plain } from "./render.ts";
import { suggest } from "./suggest.ts";
import { CLIENT_VERSION } from "./version.ts";

const COMMANDS: readonly Command[] = [
  chat,
  tail,
  status,
  messages,
  interrupt,
  abort,
  resume,
  approve,
  retry,
  checkpoints,
  fork,
  close,
  state,
  usage,
  snapshot,
  schedules,
  projections,
  sessions,
];

export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly color: boolean;
  readonly signal: AbortSignal;
  out(text: string): void;
  err(text: string): void;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(`${mainHelp(COMMANDS)}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    io.out(`${BIN} ${CLIENT_VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    const guess = suggest(
      name,
      COMMANDS.map((c) => c.name),
    );
    const hint = guess === undefined ? "" : ` Did you mean "${guess}"?`;
    io.err(`error: unknown command "${name}".${hint}\n\n${mainHelp(COMMANDS)}\n`);
    return EXIT.usage;
  }
  const style = io.color ? ansi : plain;
  let ctx: CliContext | undefined;
  try {
    const parsed = parse(rest, command.options);
    if (parsed.values.help === true) {
      io.out(`${commandHelp(command)}\n`);
      return EXIT.ok;
    }
    const url = resolveUrl(parsed.values.url as string | undefined, io.env);
    const token = resolveToken(parsed.values.token as string | undefined, io.env);
    ctx = {
      client: createClient({ baseUrl: url, ...(token === undefined ? {} : { token }) }),
      sentToken: token !== undefined,
      url,
      json: parsed.values.json === true,
      style,
      signal: io.signal,
      out: io.out,
      err: io.err,
      onDetach: undefined,
      target: undefined,
      retry: {
        onRetry: ({ attempt, maxAttempts, delayMs, error }) =>
          io.err(
            style.dim(
              `${error instanceof Error ? error.message : String(error)}; retrying in ${(delayMs / 1000).toFixed(1)} s (${attempt}/${maxAttempts})\n`,
            ),
          ),
      },
    };
    return await command.run(parsed, ctx);
  } catch (error) {
    if (io.signal.aborted) {
      const detach = ctx?.onDetach?.();
      if (detach !== undefined) io.err(`\n${detach}`);
      return EXIT.interrupted;
    }
    io.err(style.red(`error: ${describe(error, ctx)}\n`));
    if (error instanceof UsageError) {
      io.err(`${commandHelp(command).split("\n")[0]}\nSee: ${BIN} ${command.name} --help\n`);
      return EXIT.usage;
    }
    return EXIT.failed;
  }
}

function describe(error: unknown, ctx: CliContext | undefined): string {
  const url = ctx?.url;
  if (error instanceof DurableAgentsClientError) {
    if (error.code === "network_error") {
      const hint =
        url === undefined || /^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(url)
          ? " — is `npm start` running?"
          : " — check --url or DURABLE_AGENTS_URL";
      return `${error.message}${hint}`;
    }
    const message =
      authAdvice(error, ctx?.sentToken === true) ?? inCliTerms(error.message, ctx?.target);
    return `${message} (${error.code}${error.status > 0 ? `, HTTP ${error.status}` : ""})`;
  }
  if (error instanceof UsageError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Runs the CLI in this process: first Ctrl-C detaches gracefully, a second one exits at once. */
export async function runCli(): Promise<void> {
  const controller = new AbortController();
  process.on("SIGINT", () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    controller.abort(new Error("interrupted by Ctrl-C"));
  });
  // `durable-agents tail ... | head` closes the pipe: stop quietly, as Unix tools do.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(EXIT.ok);
    throw error;
  });
  const code = await main(process.argv.slice(2), {
    env: process.env,
    color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
    signal: controller.signal,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
  // The command is done, but a WebSocket it read may still hold the process: Node fires the
  // socket's `close` only once the server drops the TCP connection after its close frame,
  // about 10 s later under `wrangler dev`. Exit once what was printed has been written.
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((done) => {
    if (stream.destroyed || stream.writableEnded) return done();
    stream.write("", () => done());
  });
}
