/**
 * Review finding: `PUT /v1/stream/p%2F..%2Fq` created a stream whose name is `p/../q`, which a
 * client that resolves URLs can never reach (it asks for `/v1/stream/q`). A stream path, decoded,
 * may hold no empty, `.` or `..` segment (PROTOCOL.md 12: refuse path traversal).
 */
import { env, SELF } from "cloudflare:test";
import { mintStreamToken } from "@durable-agents/core";
import { describe, expect, it } from "vitest";

const BASE = "http://agents.test/v1/stream/";
const streams = (env as unknown as { STREAMS: DurableObjectNamespace }).STREAMS;

/** What the stream object of that name holds, asked past the door. */
async function exists(name: string): Promise<boolean> {
  const response = await streams
    .get(streams.idFromName(name))
    .fetch(`${BASE}${name}`, { method: "HEAD" });
  return response.status === 200;
}

describe("stream paths", () => {
  it("a path with an empty, . or .. segment, plain or percent-encoded, is a 400 that says why, and nothing is created", async () => {
    const token = await mintStreamToken(env.AUTH_SECRET, { prefix: "" });
    const put = (path: string) =>
      SELF.fetch(`${BASE}${path}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" },
      });
    const stamp = Date.now();
    for (const [path, segment] of [
      [`p${stamp}%2F..%2Fq`, '".."'],
      [`p${stamp}%2F.%2Fq`, '"."'],
      [`p${stamp}%2F%2Fq`, "empty"],
      [`p${stamp}%2F`, "empty"],
      [`p${stamp}//q`, "empty"],
      // (A whole `%2E%2E` segment is resolved by the URL parser before the Worker sees it.)
      ["%2E%2E%2Fq", '".."'],
    ] as const) {
      const response = await put(path);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect([path, response.status, error.code]).toEqual([path, 400, "invalid_stream_path"]);
      expect(error.message).toContain(segment);
      expect(await exists(path)).toBe(false);
    }
    // Malformed percent-encoding is a 400 too, never a URIError.
    expect((await put(`p${stamp}%zz`)).status).toBe(400);
    // Names with other encoded characters, and real nesting, are streams as before.
    for (const path of [`p${stamp}%20q`, `p${stamp}/q/r`, `p${stamp}.v1/..q`]) {
      expect([path, (await put(path)).status]).toEqual([path, 201]);
      expect(await exists(path)).toBe(true);
    }
  });
});

/**
 * The same rule where a stream path arrives in a header or a body: a fork's source
 * (`Stream-Forked-From`, PROTOCOL.md 4.2: an invalid header is a 400) and the subscription APIs'
 * stream lists (PROTOCOL.md 6.2, 6.4: `streams`, `wake_stream`, `DELETE .../streams/:path`).
 */
describe("stream paths in headers and bodies", () => {
  const authorized = async (path: string, init: RequestInit = {}) => {
    const token = await mintStreamToken(env.AUTH_SECRET, { prefix: "" });
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${token}`);
    return SELF.fetch(`${BASE}${path}`, { ...init, headers });
  };
  const expectBadPath = async (response: Response, segment: string) => {
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect([response.status, error.code]).toEqual([400, "invalid_stream_path"]);
    expect(error.message).toContain(segment);
  };

  it("a fork whose Stream-Forked-From has an empty, . or .. segment is a 400 naming it, and no fork is made", async () => {
    const stamp = Date.now();
    const source = `src${stamp}`;
    const created = await authorized(source, {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "hello",
    });
    expect(created.status).toBe(201);
    for (const [from, segment] of [
      [`/v1/stream/${source}/../${source}`, '".."'],
      [`${source}/./x`, '"."'],
      [`${source}%2F..%2F${source}`, '".."'],
      [`/v1/stream/${source}//x`, "empty"],
    ] as const) {
      const fork = `fork${stamp}-${segment.length}-${from.length}`;
      const response = await authorized(fork, {
        method: "PUT",
        headers: { "content-type": "text/plain", "stream-forked-from": from },
      });
      await expectBadPath(response, segment);
      expect(await exists(fork)).toBe(false);
    }
  });

  it("a subscription whose streams or wake_stream hold such a path is a 400 naming it, and changes nothing", async () => {
    const id = `paths-${Date.now()}`;
    const put = (body: unknown) =>
      authorized(`__ds/subscriptions/${id}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    await expectBadPath(
      await put({ type: "pull-wake", wake_stream: "w", streams: ["a/../b"] }),
      '".."',
    );
    await expectBadPath(
      await put({ type: "pull-wake", wake_stream: "w/./x", streams: ["a"] }),
      '"."',
    );
    expect((await authorized(`__ds/subscriptions/${id}`)).status).toBe(404);

    expect((await put({ type: "pull-wake", wake_stream: "w", streams: ["a"] })).status).toBe(201);
    const before = await (await authorized(`__ds/subscriptions/${id}`)).json();
    const add = await authorized(`__ds/subscriptions/${id}/streams`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ streams: ["b", "c//d"] }),
    });
    await expectBadPath(add, "empty");
    const remove = await authorized(`__ds/subscriptions/${id}/streams/a%2F..%2Fb`, {
      method: "DELETE",
    });
    await expectBadPath(remove, '".."');
    expect(await (await authorized(`__ds/subscriptions/${id}`)).json()).toEqual(before);
  });
});
