/**
 * SSE on a `text/*` stream never splits a UTF-8 character (sse.ts invariant 1), read with the
 * official `@durable-streams/client`.
 */
import { stream, type TextChunk } from "@durable-streams/client";
import { describe, expect, it } from "vitest";
import { MemoryStreamServer } from "../memory-server.ts";

const URL_ = "http://streams.test/v1/stream/t";
const TEXT = { "content-type": "text/plain" };

function textStream(): { server: MemoryStreamServer; fetch: typeof fetch } {
  const server = new MemoryStreamServer();
  const fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
    server.fetch(new Request(input, init))) as typeof globalThis.fetch;
  return { server, fetch };
}

describe("SSE on a text/plain stream", () => {
  it("keeps a character whole across a read boundary (1 MiB reads), live and in catch-up", async () => {
    const { fetch } = textStream();
    await fetch(URL_, { method: "PUT", headers: TEXT });
    const body = `${"a".repeat(1048575)}é-END`;
    // Live: the SSE response is open before the append, so its reads hit the 1 MiB boundary.
    const controller = new AbortController();
    const live = await stream({
      url: URL_,
      fetch,
      live: "sse",
      offset: "-1",
      signal: controller.signal,
      warnOnHttp: false,
    });
    let liveText = "";
    const done = new Promise<void>((resolve) => {
      live.subscribeText((chunk) => {
        liveText += chunk.text;
        if (liveText.endsWith("-END")) resolve();
      });
    });
    expect((await fetch(URL_, { method: "POST", headers: TEXT, body })).status).toBe(204);
    await done;
    controller.abort();
    expect(liveText.slice(-6)).toBe("aé-END");
    expect(liveText).toBe(body);
    // Catch-up: each body ends on a whole character.
    const later = await stream({ url: URL_, fetch, live: "sse", offset: "-1", warnOnHttp: false });
    expect(await later.text()).toBe(body);
  });

  it("gives a live reader a character appended in two halves whole; offsets stay before the first half", async () => {
    const { fetch } = textStream();
    await fetch(URL_, { method: "PUT", headers: TEXT });
    const append = (bytes: number[]) =>
      fetch(URL_, { method: "POST", headers: TEXT, body: new Uint8Array(bytes) });
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
    const done = new Promise<void>((resolve) => {
      read.subscribeText((chunk) => {
        chunks.push(chunk);
        if (
          chunks
            .map((c) => c.text)
            .join("")
            .endsWith("llo")
        )
          resolve();
      });
    });
    await append([0x68, 0xc3]);
    await expect.poll(() => chunks.map((c) => c.text).join("")).toMatch(/^h/);
    const afterFirstHalf = chunks.at(-1)!.offset;
    await append([0xa9, 0x6c, 0x6c, 0x6f]);
    await done;
    controller.abort();
    expect(chunks.map((c) => c.text).join("")).toBe("héllo");
    // A reconnect from the offset given after "h" reads the held byte again: "éllo".
    const rest = await fetch(`${URL_}?offset=${afterFirstHalf}`);
    expect(await rest.text()).toBe("éllo");
  });
});
