import { DurableStream, stream } from "@durable-streams/client";
import { describe, expect, it } from "vitest";
import { isTerminal, type SessionHandle, session } from "./support/session.ts";

/** The official Durable Streams client reading a session ledger (catch-up and live). */
function fetchFor(s: SessionHandle): typeof fetch {
  return ((input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    return s.fetch(request.url, {
      method: request.method,
      headers: request.headers,
      signal: init?.signal ?? null,
    });
  }) as typeof fetch;
}

describe("a session ledger is a Durable Stream", () => {
  it("catch-up with @durable-streams/client returns the whole ledger", async () => {
    const s = session("probe");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor(isTerminal);
    const response = await stream<{ seq: number; kind: string }>({
      url: s.url("events"),
      fetch: fetchFor(s),
      live: false,
      warnOnHttp: false,
    });
    const items = await response.json();
    expect(items.map((e) => e.seq)).toEqual((await s.events()).map((e) => e.seq));
    expect(response.upToDate).toBe(true);
  });

  // Review finding: HEAD, the protocol's stream metadata (PROTOCOL.md 5.5), was a 405 on the
  // session's read while /v1/stream/* answered it; DurableStream.head() threw.
  it("HEAD with @durable-streams/client: the tail offset, content type and closure a read at the tail carries, no body", async () => {
    const s = session("probe");
    const handle = new DurableStream({
      url: s.url("events"),
      fetch: fetchFor(s),
      warnOnHttp: false,
    });
    expect(await handle.head()).toMatchObject({
      exists: true,
      contentType: "application/json",
      offset: "0000000000000000",
      cacheControl: "no-store",
      streamClosed: false,
    });
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor(isTerminal);
    const read = await s.get("events", "offset=-1");
    const tail = read.headers.get("stream-next-offset");
    await read.body?.cancel();
    expect(tail).toBe(String((await s.events()).length).padStart(16, "0"));
    expect(await handle.head()).toMatchObject({ offset: tail, streamClosed: false });
    // The raw answer: no body, the read's headers, whatever the query asks to read.
    const raw = await s.fetch(s.url("events", "offset=0000000000000001&live=long-poll"), {
      method: "HEAD",
    });
    expect(raw.status).toBe(200);
    expect(await raw.text()).toBe("");
    expect(raw.headers.get("content-type")).toBe("application/json");
    expect(raw.headers.get("stream-next-offset")).toBe(tail);
    // A closed session is a closed stream.
    expect((await s.post("close")).status).toBe(200);
    const closed = await handle.head();
    expect(closed).toMatchObject({ exists: true, streamClosed: true });
    expect(closed.exists && closed.offset).not.toBe(tail);
  });

  it("live SSE with @durable-streams/client follows a run as it happens", async () => {
    const s = session("chatty");
    const controller = new AbortController();
    const response = await stream<{ seq: number; kind: string }>({
      url: s.url("events"),
      fetch: fetchFor(s),
      live: "sse",
      offset: "-1",
      signal: controller.signal,
      warnOnHttp: false,
    });
    const seen: { seq: number; kind: string }[] = [];
    const done = new Promise<void>((resolve) => {
      response.subscribeJson((batch) => {
        seen.push(...batch.items);
        if (batch.items.some((e) => e.kind === "run.completed")) resolve();
      });
    });
    await s.post("runs", { input: { message: "talk" } });
    await done;
    controller.abort();
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.at(-1)?.kind).toBe("run.completed");
  });
});
