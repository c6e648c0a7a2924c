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
