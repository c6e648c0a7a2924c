export interface SseFrame {
  readonly id: string;
  readonly data: Record<string, unknown>;
}

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * Reads an SSE response frame by frame until `stop` holds (or the server ends it),
 * then cancels it: a client that goes away. `[DONE]` ends the read.
 */
export async function readSse(
  fetch: Fetch,
  url: string,
  stop: (frame: SseFrame) => boolean,
  headers: Record<string, string> = {},
  init: RequestInit = {},
): Promise<SseFrame[]> {
  const response = await fetch(url, {
    ...init,
    // The request's own headers (a POST's content-type) stay; `headers` add to them.
    headers: {
      accept: "text/event-stream",
      ...(init.headers as Record<string, string>),
      ...headers,
    },
  });
  if (response.status !== 200)
    throw new Error(`${url}: ${response.status} ${await response.text()}`);
  const frames: SseFrame[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return frames;
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id = "";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("id: ")) id = line.slice(4);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        if (data === "") continue;
        if (data === "[DONE]") return frames;
        const frame = { id, data: JSON.parse(data) as Record<string, unknown> };
        frames.push(frame);
        if (stop(frame)) return frames;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
