/** SSE on a `text/*` stream never splits a UTF-8 character (sse.ts invariant 1). */
import { describe, expect, it } from "vitest";
import { MemoryStreamServer } from "../memory-server.ts";

const BASE = "http://streams.test/v1/stream/";
const TEXT = { "content-type": "text/plain" };

interface SseEvent {
  readonly type: string;
  readonly data: string;
}

/** Reads SSE events (data lines joined per the SSE spec) until `stop` says so or the body ends. */
async function readEvents(
  response: Response,
  stop: (events: readonly SseEvent[]) => boolean,
): Promise<SseEvent[]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return events;
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = "";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) type = line.slice(6).trim();
          else if (line.startsWith("data:"))
            data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
        }
        if (type !== "") events.push({ type, data: data.join("\n") });
        if (stop(events)) return events;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

const textOf = (events: readonly SseEvent[]): string =>
  events
    .filter((e) => e.type === "data")
    .map((e) => e.data)
    .join("");
const controls = (events: readonly SseEvent[]) =>
  events
    .filter((e) => e.type === "control")
    .map((e) => JSON.parse(e.data) as { streamNextOffset: string; upToDate?: boolean });

describe("SSE on a text/plain stream", () => {
  it("keeps a character whole across a read boundary (1 MiB chunks)", async () => {
    const s = new MemoryStreamServer();
    await s.fetch(new Request(`${BASE}t`, { method: "PUT", headers: TEXT }));
    const body = `${"a".repeat(1048575)}é-END`;
    const post = await s.fetch(new Request(`${BASE}t`, { method: "POST", headers: TEXT, body }));
    expect(post.status).toBe(204);
    const response = await s.fetch(new Request(`${BASE}t?offset=-1&live=sse`));
    const events = await readEvents(response, (seen) => controls(seen).at(-1)?.upToDate === true);
    const text = textOf(events);
    expect(text.endsWith("aé-END")).toBe(true);
    expect(text).toBe(body);
  });

  it("gives a live reader a character appended in two halves whole, and offsets before its first half", async () => {
    const s = new MemoryStreamServer();
    await s.fetch(new Request(`${BASE}t`, { method: "PUT", headers: TEXT }));
    const response = await s.fetch(new Request(`${BASE}t?offset=-1&live=sse`));
    const append = (bytes: number[]) =>
      s.fetch(
        new Request(`${BASE}t`, { method: "POST", headers: TEXT, body: new Uint8Array(bytes) }),
      );
    let appended = false;
    let firstHalfControl: string | undefined;
    const events = await readEvents(response, (seen) => {
      if (!appended) {
        appended = true;
        void append([0x68, 0xc3]).then(() => undefined);
        return false;
      }
      const text = textOf(seen);
      if (text.startsWith("h") && seen.at(-1)?.type === "control" && !firstHalfControl) {
        firstHalfControl = controls(seen).at(-1)?.streamNextOffset;
        void append([0xa9, 0x6c, 0x6c, 0x6f]);
      }
      return text.endsWith("llo");
    });
    expect(textOf(events)).toBe("héllo");
    // The control after "h" points before the held byte: a reconnect from it reads "éllo".
    expect(firstHalfControl).toBeDefined();
    const rest = await s.fetch(new Request(`${BASE}t?offset=${firstHalfControl}`));
    expect(await rest.text()).toBe("éllo");
  });
});
