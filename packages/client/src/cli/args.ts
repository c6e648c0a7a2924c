import { parseArgs } from "node:util";
import { DEFAULT_BASE_URL } from "../client.ts";
import type { Options } from "./context.ts";
import { suggest } from "./suggest.ts";

/** Bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const COMMON_OPTIONS = {
  url: {
    type: "string",
    value: "url",
    description: `the server (default: $DURABLE_AGENTS_URL or ${DEFAULT_BASE_URL})`,
  },
  token: {
    type: "string",
    value: "token",
    description:
      "a session token (mintSessionToken), sent as `authorization: Bearer` on every request; needed when the server has AUTH_SECRET set (default: $DURABLE_AGENTS_TOKEN)",
  },
  json: { type: "boolean", description: "print JSON (one object per line) instead of text" },
  help: { type: "boolean", short: "h", description: "show this help" },
} as const satisfies Options;

export function parse<T extends Options>(argv: string[], options: T) {
  const all = { ...COMMON_OPTIONS, ...options };
  try {
    return parseArgs({
      args: joinNegativeValues(argv, all),
      options: all,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(usageMessage(error, Object.keys(all)));
  }
}

/** A negative number, e.g. `-1` or `-2.5`: never one of our options, which are words. */
const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;

/**
 * parseArgs refuses a value that starts with a dash (`--offset -1` is "ambiguous": it guards
 * against a forgotten value, `--reason --json`). A negative number cannot be an option, so
 * after an option that takes a value (`type: "string"` in its spec, the one declaration) it is
 * that value: `--offset -1` is read as `--offset=-1`. Other dashed values still need the `=`
 * form, as parseArgs says; nothing after `--` is touched.
 */
function joinNegativeValues(argv: readonly string[], options: Options): string[] {
  /** The option `arg` names (`--offset`, or a short `-o`) when it takes a value. */
  const valueOption = (arg: string): string | undefined => {
    const name =
      /^--([^=]+)$/.exec(arg)?.[1] ??
      Object.keys(options).find((key) => arg.length === 2 && options[key]?.short === arg[1]);
    return name !== undefined && options[name]?.type === "string" ? name : undefined;
  };
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") return [...args, ...argv.slice(i)];
    const next = argv[i + 1];
    const name = next !== undefined && NEGATIVE_NUMBER.test(next) ? valueOption(arg) : undefined;
    if (name === undefined) args.push(arg);
    else {
      args.push(`--${name}=${next}`);
      i++;
    }
  }
  return args;
}

/**
 * parseArgs' errors in our words: its unknown-option message is a paragraph about
 * positionals; ours names the option and the likely one meant.
 */
function usageMessage(error: unknown, known: readonly string[]): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /^Unknown option '(-{1,2})([^']+)'/.exec(message);
  if (unknown !== null) {
    const [, dashes, name] = unknown as unknown as [string, string, string];
    const guess = suggest(name, known);
    return `unknown option ${dashes}${name}${guess === undefined ? "" : `; did you mean --${guess}?`}`;
  }
  const missing = /^Option '(-\w, )?(--[^ ']+) <value>' argument missing/.exec(message);
  if (missing !== null) return `${missing[2]} needs a value`;
  return message;
}

/**
 * The value of a `--name <json>` flag, parsed. Not JSON: a usage error that names the flag,
 * shows the value and the parser's complaint, and says to quote it (nothing is sent).
 */
export function parseJsonFlag(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    throw new UsageError(
      `--${name} is not valid JSON (${shown}): ${error instanceof Error ? error.message : String(error)}; quote it for the shell, e.g. --${name} '{"key":"value"}'`,
    );
  }
}

/** `--url`, else `DURABLE_AGENTS_URL`, else the local dev server. */
export function resolveUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const url = flag ?? env.DURABLE_AGENTS_URL ?? DEFAULT_BASE_URL;
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url "${url}" is not a URL; expected e.g. ${DEFAULT_BASE_URL}`);
  }
  return url;
}

/** `--token`, else `DURABLE_AGENTS_TOKEN`, else none. */
export function resolveToken(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const token = (flag ?? env.DURABLE_AGENTS_TOKEN ?? "").trim();
  if (flag !== undefined && token === "")
    throw new UsageError("--token is empty; pass the token, e.g. --token da1.…");
  return token === "" ? undefined : token;
}

export interface Target {
  agent: string;
  session: string;
}

/** Parses `<agent>/<session>`. */
export function parseTarget(value: string | undefined): Target {
  const match = value === undefined ? null : /^([^/\s]+)\/([^/\s]+)$/.exec(value);
  if (match === null) {
    throw new UsageError(
      value === undefined
        ? "missing <agent>/<session>, e.g. assistant/s1"
        : `"${value}" is not <agent>/<session>, e.g. assistant/s1`,
    );
  }
  return { agent: match[1] as string, session: match[2] as string };
}

/**
 * Accepts an offset as printed by `tail`, `-1` (start), `now` (tail), or a
 * plain event number. Ledger offsets are the seq zero-padded to 16 digits
 * (docs/architecture.md), so `12` means "after event 12".
 */
export function parseOffset(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (/^\d{1,15}$/.test(value)) return value.padStart(16, "0");
  return value;
}

export function exactlyPositionals(positionals: string[], count: number, usage: string): void {
  if (positionals.length !== count) {
    throw new UsageError(
      positionals.length < count ? `missing arguments: ${usage}` : `too many arguments: ${usage}`,
    );
  }
}
