/**
 * SSE on a `text/*` stream never splits a UTF-8 character (sse.ts invariant 1), and neither
 * does a catch-up body (serve-stream-read.ts invariant 4); read with `@durable-streams/client`.
 */
import { stream, type TextChunk } from "@durable-streams/client";
import { describe, expect, it } from "vitest";
import { MemoryStreamServer } from "../memory-server.ts";

const URL_ = "http://streams.test/v1/stream/t";
const TEXT = { "content-type": "text/plain" };

/** A text/plain stream on an in-memory server, and `fetch` for it. */
async function textStream(): Promise<typeof fetch> {
  const server = new MemoryStreamServer();
  const fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
    server.fetch(new Request(input, init))) as typeof globalThis.fetch;
  await fetch(URL_, { method: "PUT", headers: TEXT });
  return fetch;
}

/** A live SSE reader from the start; `until` resolves once the text read so far ends with `end`. */
async function liveReader(fetch: typeof globalThis.fetch) {
  const controller = new AbortController();
  const read = await stream({
    url: URL_,
    fetch,
    live: "sse",
    offset: "-1",
    signal: controller.signal,
    warnOnHttp: false,
  });
  const chunks: TextChunk[] = [];
  const waiting: { end: string; resolve: () => void }[] = [];
  const text = () => chunks.map((chunk) => chunk.text).join("");
  read.subscribeText((chunk) => {
    chunks.push(chunk);
    for (const wait of waiting) if (text().endsWith(wait.end)) wait.resolve();
  });
  return {
    chunks,
    text,
    until: (end: string) => new Promise<void>((resolve) => waiting.push({ end, resolve })),
    stop: () => controller.abort(),
  };
}

describe("SSE on a text/plain stream", () => {
  it("keeps a character whole across a read boundary (1 MiB reads), live and in catch-up", async () => {
    const fetch = await textStream();
    const body = `${"a".repeat(1048575)}é-END`;
    // Live: the SSE response is open before the append, so its reads hit the 1 MiB boundary.
    const live = await liveReader(fetch);
    const done = live.until("-END");
    expect((await fetch(URL_, { method: "POST", headers: TEXT, body })).status).toBe(204);
    await done;
    live.stop();
    expect(live.text().slice(-6)).toBe("aé-END");
    expect(live.text()).toBe(body);
    // Catch-up: each body ends on a whole character.
    const later = await stream({ url: URL_, fetch, live: "sse", offset: "-1", warnOnHttp: false });
    expect(await later.text()).toBe(body);
  });

  it("gives a live reader a character appended in two halves whole; offsets stay before the first half", async () => {
    const fetch = await textStream();
    const append = (bytes: number[]) =>
      fetch(URL_, { method: "POST", headers: TEXT, body: new Uint8Array(bytes) });
    const live = await liveReader(fetch);
    await append([0x68, 0xc3]);
    await expect.poll(live.text).toMatch(/^h/);
    const afterFirstHalf = live.chunks.at(-1)!.offset;
    const done = live.until("llo");
    await append([0xa9, 0x6c, 0x6c, 0x6f]);
    await done;
    live.stop();
    expect(live.text()).toBe("héllo");
    // A reconnect from the offset given after "h" reads the held byte again: "éllo".
    const rest = await fetch(`${URL_}?offset=${afterFirstHalf}`);
    expect(await rest.text()).toBe("éllo");
  });
});
