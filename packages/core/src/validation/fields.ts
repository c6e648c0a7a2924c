import * as z from "zod/mini";
import type { JsonValue } from "../ledger/events.ts";

// Field schemas the runtime's inputs share (`zod/mini`).

/** Any JSON value (`null`, booleans, finite numbers, strings, arrays, objects); not `undefined`. */
export const jsonValue: z.ZodMiniType<JsonValue> = z.json();

/** A string of `min` to `max` characters (UTF-16 code units, as `String.length` counts). */
export function text(min: number, max: number): z.ZodMiniString<string> {
  return min > 0
    ? z.string().check(z.minLength(min), z.maxLength(max))
    : z.string().check(z.maxLength(max));
}

/**
 * The longest `reason` a command takes (an interrupt's, an abort's, a close's, a decision's, an
 * `ends`): a note a person or a client writes, which the model may see.
 */
export const MAX_REASON_CHARS = 1000;

/** A command's `reason` (MAX_REASON_CHARS). */
export const reasonText = text(0, MAX_REASON_CHARS);

/**
 * The longest error message a tool's failure keeps (a thrown error's `message`, which may be a
 * whole upstream error page): 16 Ki characters, cut and marked past that, so a long message
 * fails the call the model sees rather than the event that records it (docs/limits.md).
 */
export const MAX_TOOL_ERROR_CHARS = 16 * 1024;

/**
 * `value` at most `max` characters (UTF-16 code units), cut with a trailing `…` when longer,
 * never between the two halves of a surrogate pair.
 */
export function cutText(value: string, max: number): string {
  if (value.length <= max) return value;
  const end = max - 1;
  const at = /[\uD800-\uDBFF]/.test(value.charAt(end - 1)) ? end - 1 : end;
  return `${value.slice(0, at)}…`;
}

/**
 * An object of the runtime's own inputs (a command's body and the objects in it): a field it
 * does not declare is refused, never dropped, so a misspelled one (`"mesage"`) is a 400 and the
 * command does not run without it. `check` names each unknown field's path (`mesage`,
 * `input.mesage`) with this message, which says what `name` takes. Not for the protocols' bodies
 * (the AI SDK's chat body, AG-UI's RunAgentInput), which carry fields of their own.
 */
export function closedObject<T extends z.core.$ZodLooseShape>(
  name: string,
  shape: T,
): z.ZodMiniObject<T, z.core.$strict> {
  const fields = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `${name} takes ${fields} and nothing else` : undefined,
  }) as z.ZodMiniObject<T, z.core.$strict>;
}
