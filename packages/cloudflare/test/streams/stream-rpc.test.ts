/**
 * The Worker → stream object hop for appends (DO RPC `append`, group-committed in the
 * object), the metadata row an append leaves alone, and the refused body the Worker drains
 * before its 413; in real workerd.
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { routeStreamRequest } from "../../src/index.ts";

const BASE = "http://streams.test/v1/stream/";
const streams = (env as unknown as { STREAMS: DurableObjectNamespace }).STREAMS;
let n = 0;
const unique = (prefix: string): string => `${prefix}-${Date.now()}-${n++}`;
const route = (path: string, init: RequestInit = {}, vars: Record<string, string> = {}) =>
  routeStreamRequest(new Request(`${BASE}${path}`, init), streams, vars, {
    authorize: () => true,
  });
const text = { "content-type": "text/plain" };

describe("appends over RPC", () => {
  it("answers concurrent appends to one stream each with the offset of its own data", async () => {
    const path = unique("group");
    expect((await route(path, { method: "PUT", headers: text })).status).toBe(201);
    const bodies = Array.from({ length: 20 }, (_, i) => `<${String(i).padStart(2, "0")}>`);
    const responses = await Promise.all(
      bodies.map((body) => route(path, { method: "POST", headers: text, body })),
    );
    expect(responses.map((r) => r.status)).toEqual(bodies.map(() => 204));
    expect(responses.every((r) => r.headers.get("access-control-allow-origin") === "*")).toBe(true);
    const data = await (await route(path)).text();
    // Each reply's offset is the end of its own body in the stream, whatever the order.
    for (const [i, response] of responses.entries()) {
      const end = Number(response.headers.get("stream-next-offset")?.split("_")[1]);
      expect(data.slice(end - 4, end)).toBe(bodies[i]);
    }
    expect([...data.matchAll(/<\d\d>/g)].map((m) => m[0]).sort()).toEqual(bodies);
    const stats = await runInDurableObject(
      streams.get(streams.idFromName(path)),
      (instance) =>
        (instance as unknown as { appends: { stats: { appends: number } } }).appends.stats,
    );
    expect(stats.appends).toBe(20);
  });

  it("keeps producer replies, typed errors and stream headers the same as before the RPC", async () => {
    const path = unique("producer");
    await route(path, { method: "PUT", headers: { "content-type": "application/json" } });
    const send = (seq: number, body = `{"seq":${seq}}`) =>
      route(path, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "producer-id": "p",
          "producer-epoch": "0",
          "producer-seq": String(seq),
          origin: "https://app.example",
        },
        body,
      });
    const accepted = await send(0);
    expect(accepted.status).toBe(200);
    expect(accepted.headers.get("producer-seq")).toBe("0");
    expect(accepted.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect((await send(0)).status).toBe(204);
    const gap = await send(5);
    expect(gap.status).toBe(409);
    expect(gap.headers.get("producer-expected-seq")).toBe("1");
    expect(((await gap.json()) as { error: { code: string } }).error.code).toBe(
      "producer_sequence_gap",
    );
    const bad = await send(1, "{oops");
    expect(bad.status).toBe(400);
    const badHeader = await route(path, {
      method: "POST",
      headers: { "content-type": "application/json", "producer-id": "p" },
      body: "{}",
    });
    expect(badHeader.status).toBe(400);
    const missing = await route(unique("missing"), { method: "POST", headers: text, body: "x" });
    expect(missing.status).toBe(404);
    expect(await (await route(path)).json()).toEqual([{ seq: 0 }]);
  });

  it("writes the metadata row only when more than the tail changes, and finds the tail after eviction", async () => {
    const path = unique("tail");
    await route(path, { method: "PUT", headers: text, body: "ab" });
    let last = "";
    for (const body of ["cd", "ef", "gh"]) {
      const response = await route(path, { method: "POST", headers: text, body });
      last = response.headers.get("stream-next-offset") ?? "";
    }
    const stub = streams.get(streams.idFromName(path));
    const storedTail = await runInDurableObject(stub, (_i, state) => {
      const row = state.storage.sql.exec<{ json: string }>("SELECT json FROM ds_meta").one();
      return (JSON.parse(row.json) as { tail: number }).tail;
    });
    expect(storedTail).toBe(2);
    await evictDurableObject(stub);
    const head = await route(path, { method: "HEAD" });
    expect(head.headers.get("stream-next-offset")).toBe(last);
    expect(last.endsWith("_0000000000000008")).toBe(true);
    // A close changes more than the tail: the row is written, with the tail.
    await route(path, { method: "POST", headers: { ...text, "stream-closed": "true" } });
    await evictDurableObject(stub);
    const closed = await route(path, { method: "HEAD" });
    expect(closed.headers.get("stream-closed")).toBe("true");
    expect(closed.headers.get("stream-next-offset")).toBe(last);
    expect(await (await route(path)).text()).toBe("abcdefgh");
  });
});

describe("a refused body", () => {
  /** A body of `size` bytes in 64 KiB pieces that counts what was read of it. */
  function countingBody(size: number) {
    let read = 0;
    const piece = new Uint8Array(64 * 1024);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (read >= size) return controller.close();
        const next = piece.subarray(0, Math.min(piece.byteLength, size - read));
        read += next.byteLength;
        controller.enqueue(next);
      },
    });
    return { body, read: () => read };
  }

  it("is read (up to twice the limit) before the 413, so a proxy never sees an early answer", async () => {
    const path = unique("big");
    const limit = 256 * 1024;
    const vars = { STREAMS_MAX_APPEND_BYTES: String(limit) };
    await route(path, { method: "PUT", headers: text }, vars);
    const within = countingBody(limit + 100_000);
    const refused = await route(
      path,
      {
        method: "POST",
        headers: { ...text, "content-length": String(limit + 100_000) },
        body: within.body,
      },
      vars,
    );
    expect(refused.status).toBe(413);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      "payload_too_large",
    );
    expect(within.read()).toBe(limit + 100_000);
    const huge = countingBody(10 * limit);
    const cut = await route(
      path,
      {
        method: "POST",
        headers: { ...text, "content-length": String(10 * limit) },
        body: huge.body,
      },
      vars,
    );
    expect(cut.status).toBe(413);
    expect(huge.read()).toBeGreaterThanOrEqual(2 * limit);
    expect(huge.read()).toBeLessThan(3 * limit);
    expect(await (await route(path, {}, vars)).text()).toBe("");
  });

  it("is not read for a caller the door refuses: 403 first, the body untouched", async () => {
    const path = unique("big-unauth");
    const limit = 256 * 1024;
    const huge = countingBody(10 * limit);
    const refused = await routeStreamRequest(
      new Request(`${BASE}${path}`, {
        method: "POST",
        headers: { ...text, "content-length": String(10 * limit) },
        body: huge.body,
      }),
      streams,
      { STREAMS_MAX_APPEND_BYTES: String(limit) },
      { authorize: () => false },
    );
    expect(refused.status).toBe(403);
    expect(huge.read()).toBeLessThan(limit);
  });
});
