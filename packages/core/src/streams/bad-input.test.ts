/** Bad inputs get the protocol's status codes, typed JSON errors, and change no state (G5). */
import { describe, expect, it } from "vitest";
import { MemoryStreamServer } from "./memory-server.ts";
import { parseRegistryPath } from "./subscriptions/registry-path.ts";

const BASE = "http://streams.test/v1/stream/";

function server(maxAppendBytes = 1024): MemoryStreamServer {
  return new MemoryStreamServer({ config: { maxAppendBytes } });
}

async function call(
  s: MemoryStreamServer,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  return s.fetch(new Request(BASE + path, init));
}

/** Everything a client can observe about a stream. */
async function snapshot(s: MemoryStreamServer, path: string) {
  const head = await call(s, path, { method: "HEAD" });
  const read = await call(s, path);
  return {
    status: head.status,
    tail: head.headers.get("stream-next-offset"),
    closed: head.headers.get("stream-closed"),
    body: await read.text(),
  };
}

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe("bad inputs", () => {
  it("rejects an oversized body with 413 and the documented limit, appending nothing", async () => {
    const s = server(1024);
    await call(s, "a", { method: "PUT", headers: { "content-type": "text/plain" }, body: "hello" });
    const before = await snapshot(s, "a");
    const res = await call(s, "a", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "x".repeat(1025),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      error: { code: "payload_too_large", details: { limitBytes: 1024 } },
    });
    expect(await snapshot(s, "a")).toEqual(before);
  });

  it("rejects an oversized PUT body without creating the stream", async () => {
    const s = server(16);
    const res = await call(s, "b", {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "y".repeat(17),
    });
    expect(res.status).toBe(413);
    expect((await call(s, "b", { method: "HEAD" })).status).toBe(404);
  });

  it.each([
    [{ "producer-id": "p" }],
    [{ "producer-id": "p", "producer-epoch": "0" }],
    [{ "producer-id": "", "producer-epoch": "0", "producer-seq": "0" }],
    [{ "producer-id": "p", "producer-epoch": "1e3", "producer-seq": "0" }],
    [{ "producer-id": "p", "producer-epoch": "0", "producer-seq": "01" }],
    [{ "producer-id": "p", "producer-epoch": "-1", "producer-seq": "0" }],
    [{ "producer-id": "p", "producer-epoch": "0", "producer-seq": "9007199254740993" }],
  ])(
    "rejects malformed producer headers %j with 400 and leaves producer state alone",
    async (headers) => {
      const s = server();
      await call(s, "c", { method: "PUT", headers: { "content-type": "text/plain" } });
      const before = await snapshot(s, "c");
      const res = await call(s, "c", {
        method: "POST",
        headers: { "content-type": "text/plain", ...headers },
        body: "m",
      });
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe("invalid_header");
      expect(await snapshot(s, "c")).toEqual(before);
      const first = await call(s, "c", {
        method: "POST",
        headers: {
          "content-type": "text/plain",
          "producer-id": "p",
          "producer-epoch": "0",
          "producer-seq": "0",
        },
        body: "m",
      });
      expect(first.status).toBe(200);
    },
  );

  it("answers 404 with a typed error for every operation on an unknown stream, and creates nothing", async () => {
    const s = server();
    for (const method of ["GET", "POST", "DELETE"]) {
      const init: RequestInit =
        method === "POST"
          ? { method, headers: { "content-type": "text/plain" }, body: "x" }
          : { method };
      const res = await call(s, "nope", init);
      expect(res.status).toBe(404);
      expect(await errorCode(res)).toBe("stream_not_found");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
    expect((await call(s, "nope", { method: "HEAD" })).status).toBe(404);
    expect((await call(s, "nope?offset=now&live=long-poll")).status).toBe(404);
  });

  it("rejects offsets minted by another stream with 400", async () => {
    const s = server();
    await call(s, "one", {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "first stream",
    });
    await call(s, "two", {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "second",
    });
    const foreign = (await call(s, "one", { method: "HEAD" })).headers.get(
      "stream-next-offset",
    ) as string;
    const before = await snapshot(s, "two");
    for (const live of ["", "&live=long-poll", "&live=sse"]) {
      const res = await call(s, `two?offset=${foreign}${live}`);
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe("invalid_offset");
    }
    expect(await snapshot(s, "two")).toEqual(before);
  });

  it("an SSE reader's bad Last-Event-ID is refused by that name, a bad ?offset= by its own", async () => {
    const s = server();
    await call(s, "sse", { method: "PUT", headers: { "content-type": "text/plain" }, body: "x" });
    const message = async (path: string, headers: Record<string, string> = {}) => {
      const res = await call(s, path, { headers });
      expect(res.status).toBe(400);
      return ((await res.json()) as { error: { message: string } }).error.message;
    };
    for (const id of ["garbage", "zz_0000000000000001"]) {
      const refused = await message("sse?offset=-1&live=sse", { "last-event-id": id });
      expect(refused).toContain(`Last-Event-ID "${id}"`);
      expect(refused).not.toContain("Stream-Next-Offset");
      expect(refused).toContain("reconnect without it");
    }
    expect(await message("sse?offset=garbage&live=sse")).toBe(
      'offset "garbage" is malformed; use -1, now, or a Stream-Next-Offset value returned by this stream',
    );
  });

  it("rejects offsets from a deleted stream once the URL is re-created", async () => {
    const s = server();
    await call(s, "again", {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "old",
    });
    const old = (await call(s, "again", { method: "HEAD" })).headers.get(
      "stream-next-offset",
    ) as string;
    await call(s, "again", { method: "DELETE" });
    await call(s, "again", {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "new data",
    });
    const res = await call(s, `again?offset=${old}`);
    expect(res.status).toBe(400);
  });

  it("fences a stale producer epoch with 403 and the current epoch, appending nothing", async () => {
    const s = server();
    await call(s, "d", { method: "PUT", headers: { "content-type": "text/plain" } });
    const send = (epoch: number, seq: number) =>
      call(s, "d", {
        method: "POST",
        headers: {
          "content-type": "text/plain",
          "producer-id": "p",
          "producer-epoch": String(epoch),
          "producer-seq": String(seq),
        },
        body: `e${epoch}s${seq}`,
      });
    expect((await send(1, 0)).status).toBe(200);
    const before = await snapshot(s, "d");
    const stale = await send(0, 1);
    expect(stale.status).toBe(403);
    expect(stale.headers.get("producer-epoch")).toBe("1");
    expect(await snapshot(s, "d")).toEqual(before);
  });

  it("refuses JSON nested past the limit with 400 json_too_deep, appending and creating nothing", async () => {
    const s = server(1024 * 1024);
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    const json = { "content-type": "application/json" };
    await call(s, "j", { method: "PUT", headers: json, body: "[1]" });
    const before = await snapshot(s, "j");
    for (const body of [deep, `[{"a":${deep}}]`]) {
      const res = await call(s, "j", { method: "POST", headers: json, body });
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe("json_too_deep");
    }
    expect(await snapshot(s, "j")).toEqual(before);
    const created = await call(s, "k", { method: "PUT", headers: json, body: deep });
    expect(created.status).toBe(400);
    expect((await call(s, "k", { method: "HEAD" })).status).toBe(404);
    // Brackets inside strings are text, not nesting.
    const text = JSON.stringify(["[".repeat(10_000)]);
    expect((await call(s, "j", { method: "POST", headers: json, body: text })).status).toBe(204);
  });
});

describe("stream paths in the in-memory server", () => {
  it("a path with an empty, . or .. segment is a 400 naming it, in the URL or in Stream-Forked-From, and creates nothing", async () => {
    const s = server();
    const text = { "content-type": "text/plain" };
    for (const [path, segment] of [
      ["p%2F..%2Fq", '".."'],
      ["p%2F.%2Fq", '"."'],
      ["p//q", "empty"],
      ["p/", "empty"],
    ] as const) {
      const response = await call(s, path, { method: "PUT", headers: text });
      expect([path, response.status, await errorCode(response.clone())]).toEqual([
        path,
        400,
        "invalid_stream_path",
      ]);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
        segment,
      );
    }
    await call(s, "src", { method: "PUT", headers: text, body: "hello" });
    for (const from of ["/v1/stream/src/../src", "src%2F.%2Fx", "src//x"]) {
      const response = await call(s, "fork", {
        method: "PUT",
        headers: { ...text, "stream-forked-from": from },
      });
      expect([from, response.status, await errorCode(response)]).toEqual([
        from,
        400,
        "invalid_stream_path",
      ]);
      expect((await call(s, "fork", { method: "HEAD" })).status).toBe(404);
    }
  });
});

describe("the __ds registry's bad paths", () => {
  it("malformed percent-encoding in a subscription id or stream path is a 400, not a thrown URIError", () => {
    for (const rest of [
      "subscriptions/%E0",
      "subscriptions/%zz/streams",
      "subscriptions/a/streams/%ED%A0%80",
    ]) {
      expect(() => parseRegistryPath(rest), rest).toThrow(
        expect.objectContaining({ status: 400, code: "invalid_path" }),
      );
    }
    expect(parseRegistryPath("subscriptions/%61/streams/x%2Fy")).toEqual({
      kind: "subscription",
      id: "a",
      action: "streams",
      streamPath: "x/y",
    });
  });
});
