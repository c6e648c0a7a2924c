/**
 * How long a provider asked us to wait before retrying, from its response headers.
 * `retry-after-ms` (milliseconds, OpenAI) wins over `retry-after` (RFC 9110 §10.2.3: seconds,
 * or an HTTP date). Returns undefined when neither is present or parseable; never negative.
 * Header names are matched case-insensitively.
 */
export function retryAfterMs(
  headers: Record<string, string | undefined> | undefined,
  now: number,
): number | undefined {
  if (!headers) return undefined;
  const get = (name: string) =>
    Object.entries(headers)
      .find(([key]) => key.toLowerCase() === name)?.[1]
      ?.trim();
  const ms = get("retry-after-ms");
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const value = get("retry-after");
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
