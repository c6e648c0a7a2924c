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
