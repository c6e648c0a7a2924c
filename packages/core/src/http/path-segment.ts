import * as z from "zod/mini";
import { BadRequestError } from "../errors/http-errors.ts";
import { quoteInput } from "../errors/quote-input.ts";

/** The most characters an agent name or session id has. */
export const MAX_ID_CHARS = 128;

/**
 * An agent name or session id, decoded: 1-128 letters, digits, `_`, `-`, `.`, starting with a
 * letter or digit. The one rule for ids, wherever they arrive (a path, a fork's or an MCP
 * tool's `session`).
 */
export const ID_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,${MAX_ID_CHARS - 1}}$`);

/** ID_PATTERN in words, for the messages that refuse an id. */
export const ID_RULE = `use 1-${MAX_ID_CHARS} letters, digits, _, - or . (starting with a letter or digit)`;

/** A session id a body names (a fork's, an MCP tool's `session`), refused in ID_RULE's words. */
export const sessionIdInput = z
  .string()
  .check(z.regex(ID_PATTERN, `session is not a session id; ${ID_RULE}`));

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
      `the ${what} ${quoteInput(raw)} is not valid percent-encoding: each % must start a %XX byte of valid UTF-8; encode the id with encodeURIComponent`,
    );
  }
}
