import {
  BadRequestError,
  decodePathSegment,
  ID_PATTERN,
  ID_RULE,
  MAX_ID_CHARS,
  quoteInput,
} from "@durable-agents/core";

export interface SessionPath {
  /** Decoded: the one canonical form, used for the object name, tokens and the ledger. */
  readonly agent: string;
  /** Decoded, like `agent`: `/agents/a/%70e-1/...` and `/agents/a/pe-1/...` are one session. */
  readonly session: string;
  readonly action: string;
}

/**
 * Parses `/agents/:agent/:session/:action`; undefined when the path is not a session path.
 * Throws a 400 `invalid_path` for an id that is malformed percent-encoding or not 1-128
 * letters, digits, `_`, `-`, `.`.
 */
export function parseSessionPath(pathname: string): SessionPath | undefined {
  const parts = pathname.split("/");
  if (parts[1] !== "agents" || parts.length < 4) return undefined;
  const [, , rawAgent = "", rawSession = "", action = "", ...rest] = parts;
  if (rest.length > 0 || action === "") return undefined;
  return {
    agent: decodeId(rawAgent, "agent name"),
    session: decodeId(rawSession, "session id"),
    action,
  };
}

function decodeId(raw: string, what: "agent name" | "session id"): string {
  return checkId(decodePathSegment(raw, what), what);
}

/**
 * An agent name or session id as the object name takes it: 1-128 letters, digits, `_`, `-`,
 * `.`, starting with a letter or digit (ID_PATTERN). Throws a 400 `invalid_path` otherwise,
 * saying the length and the limit when it is too long.
 */
export function checkId(value: string, what: "agent name" | "session id"): string {
  if (typeof value !== "string")
    throw new BadRequestError(
      "invalid_path",
      `the ${what} must be a string (got a ${value === null ? "null" : typeof value}); ${ID_RULE}`,
    );
  if (value.length > MAX_ID_CHARS)
    throw new BadRequestError(
      "invalid_path",
      `the ${what} ${quoteInput(value)} is too long: the limit is ${MAX_ID_CHARS} characters; ${ID_RULE}`,
    );
  if (!ID_PATTERN.test(value))
    throw new BadRequestError(
      "invalid_path",
      `the ${what} ${quoteInput(value)} is invalid; ${ID_RULE}`,
    );
  return value;
}

/** The Durable Object name of a session: one object per agent and session id. */
export function sessionObjectName(agent: string, session: string): string {
  return `${agent}/${session}`;
}
