/** Server-Sent Events framing. Multi-line data is split into one `data:` line per line. */
export interface SseEvent {
  readonly event?: string;
  readonly id?: string;
  readonly data: string;
  readonly retryMs?: number;
}

export function formatSse(event: SseEvent): string {
  let out = "";
  if (event.event !== undefined) out += `event: ${event.event}\n`;
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  if (event.retryMs !== undefined) out += `retry: ${event.retryMs}\n`;
  for (const line of event.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
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
