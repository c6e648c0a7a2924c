import { BadRequestError } from "../errors/http-errors.ts";
import { LIMITS } from "./limits.ts";

/** 400: a JSON body nests deeper than LIMITS.maxJsonDepth (docs/limits.md). */
export class JsonTooDeepError extends BadRequestError {
  override name = "JsonTooDeepError";
  constructor(what: string, maxDepth: number) {
    super(
      "json_too_deep",
      `${what} nests arrays/objects more than ${maxDepth} levels deep; flatten it (see docs/limits.md)`,
      { details: { maxDepth } },
    );
  }
}

/**
 * Refuses JSON text nested deeper than `maxDepth` before anything parses or walks it:
 * `JSON.stringify`, zod and `structuredClone` recurse, and 10,000 levels overflow the stack
 * (a RangeError, which would be a 500). One linear pass, no recursion; counts `[` and `{`
 * outside strings, so it needs no valid JSON (the parser reports that).
 */
export function assertJsonDepth(
  text: string,
  what = "the request body",
  maxDepth: number = LIMITS.maxJsonDepth,
): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) throw new JsonTooDeepError(what, maxDepth);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}
