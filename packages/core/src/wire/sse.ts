/**
 * Server-Sent Events framing, for every SSE response (Durable Streams reads and the AG-UI and
 * UI message projections). Multi-line data is split into one `data` line per line, so a
 * payload can never forge an event. Fields come in the order event, data, id, retry.
 */
export interface SseEvent {
  readonly event?: string;
  readonly id?: string;
  readonly data: string;
  readonly retryMs?: number;
}

/**
 * `data: <line>` by default (the AI SDK's and AG-UI's wire examples). `compact` writes
 * `data:<line>`, which the Durable Streams conformance suite requires (`data:line1`); a parser
 * strips one space after the colon, so a line that starts with a space keeps one in front.
 */
export function formatSse(event: SseEvent, options: { compact?: boolean } = {}): string {
  let out = "";
  if (event.event !== undefined) out += `event: ${event.event}\n`;
  for (const line of event.data.split(/\r\n|\r|\n/))
    out += options.compact && !line.startsWith(" ") ? `data:${line}\n` : `data: ${line}\n`;
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  if (event.retryMs !== undefined) out += `retry: ${event.retryMs}\n`;
  return `${out}\n`;
}

/** A comment line keeps proxies from closing an idle stream; clients ignore it. */
export function sseComment(text = "keep-alive"): string {
  return `: ${text}\n\n`;
}

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};
