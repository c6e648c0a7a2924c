/**
 * `value` quoted for an error message: whole up to `max` characters; longer, its first `max`
 * marked as cut (`…`) and its length given, so a reader never takes the cut for the value.
 */
export function quoteInput(value: string, max = 40): string {
  return value.length > max
    ? `"${value.slice(0, max)}…" (${value.length} characters)`
    : `"${value}"`;
}
