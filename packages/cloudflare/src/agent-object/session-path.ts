import { BadRequestError } from "@durable-agents/core";

export interface SessionPath {
  readonly agent: string;
  readonly session: string;
  readonly action: string;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Parses `/agents/:agent/:session/:action`; undefined when the path is not a session path. */
export function parseSessionPath(pathname: string): SessionPath | undefined {
  const parts = pathname.split("/");
  if (parts[1] !== "agents" || parts.length < 4) return undefined;
  const [, , agent = "", session = "", action = "", ...rest] = parts;
  if (rest.length > 0 || action === "") return undefined;
  for (const [what, value] of [
    ["agent name", agent],
    ["session id", session],
  ] as const) {
    if (!SEGMENT.test(decodeURIComponent(value))) {
      throw new BadRequestError(
        "invalid_path",
        `the ${what} "${value.slice(0, 40)}" is invalid; use 1-128 letters, digits, _, - or . (starting with a letter or digit)`,
      );
    }
  }
  return { agent, session, action };
}

/** The Durable Object name of a session: one object per agent and session id. */
export function sessionObjectName(agent: string, session: string): string {
  return `${agent}/${session}`;
}
