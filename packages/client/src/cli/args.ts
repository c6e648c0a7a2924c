import { parseArgs } from "node:util";
import { DEFAULT_BASE_URL } from "../client.ts";
import type { Options } from "./context.ts";

/** Bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const COMMON_OPTIONS = {
  url: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

export function parse<T extends Options>(argv: string[], options: T) {
  try {
    return parseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // parseArgs messages already name the flag ("Unknown option '--x'").
    throw new UsageError(error instanceof Error ? error.message : String(error));
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
