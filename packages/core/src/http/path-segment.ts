import { BadRequestError } from "../errors/http-errors.ts";

/**
 * An agent name or session id, decoded: 1-128 letters, digits, `_`, `-`, `.`, starting with a
 * letter or digit. The one rule for ids, wherever they arrive (a path, a fork's or an MCP
 * tool's `session`).
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * Decodes one percent-encoded path segment (RFC 3986 2.1) into the one canonical form
 * every later step uses (object names, token subjects, storage keys): `%70e-1` and `pe-1`
 * are the same id. Invalid percent-encoding or UTF-8 (`%`, `%zz`, `%E0`, `%C0%AF`,
 * `%ED%A0%80`) is a 400 `invalid_path`, never a thrown URIError.
 */
export function decodePathSegment(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequestError(
      "invalid_path",
      `the ${what} "${raw.slice(0, 40)}" is not valid percent-encoding: each % must start a %XX byte of valid UTF-8; encode the id with encodeURIComponent`,
    );
  }
}
