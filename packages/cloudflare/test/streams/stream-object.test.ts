/** The stream object in real workerd: SQLite commits, eviction, alarms, forks over RPC. */
import {
  env,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { describe, expect, it } from "vitest";

const streams = (env as unknown as { STREAMS: DurableObjectNamespace }).STREAMS;
let n = 0;
const unique = (prefix: string): string => `${prefix}-${Date.now()}-${n++}`;
const stub = (path: string) => streams.get(streams.idFromName(path));
const call = (path: string, init: RequestInit = {}, query = "") =>
  stub(path).fetch(`http://streams.test/v1/stream/${path}${query}`, init);

describe("DurableStreamObject", () => {
  it("commits data and producer state together and keeps both across eviction", async () => {
    const path = unique("atomic");
    await call(path, { method: "PUT", headers: { "content-type": "application/json" } });
    const send = (seq: number) =>
      call(path, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "producer-id": "p",
          "producer-epoch": "0",
          "producer-seq": String(seq),
        },
        body: JSON.stringify([{ seq }, { seq: seq + 0.5 }]),
      });
    expect((await send(0)).status).toBe(200);
    await evictDurableObject(stub(path));
    expect((await send(0)).status).toBe(204);
    expect((await send(1)).status).toBe(200);
    expect(await (await call(path)).json()).toEqual([
      { seq: 0 },
      { seq: 0.5 },
      { seq: 1 },
      { seq: 1.5 },
    ]);
    const rows = await runInDurableObject(stub(path), (_i, state) => ({
      chunks: state.storage.sql.exec("SELECT count(*) AS n FROM ds_chunks").one().n,
      producer: state.storage.sql.exec("SELECT last_seq FROM ds_producers WHERE id = 'p'").one()
        .last_seq,
    }));
    expect(rows).toEqual({ chunks: 2, producer: 1 });
  });

  it("expires a TTL stream on its alarm", async () => {
    const path = unique("ttl");
    await call(path, {
      method: "PUT",
      headers: { "content-type": "text/plain", "stream-ttl": "1" },
      body: "x",
    });
    await new Promise((r) => setTimeout(r, 1_100));
    // The alarm may already have fired on its own; run it if it is still pending. No request
    // touches the stream before the check, so only the alarm can have deleted it.
    await runDurableObjectAlarm(stub(path));
    const rows = await runInDurableObject(
      stub(path),
      (_i, state) => state.storage.sql.exec("SELECT count(*) AS n FROM ds_meta").one().n,
    );
    expect(rows).toBe(0);
    expect((await call(path, { method: "HEAD" })).status).toBe(404);
  });

  it("wakes a long-poll in process when data arrives", async () => {
    const path = unique("lp");
    const created = await call(path, { method: "PUT", headers: { "content-type": "text/plain" } });
    const offset = created.headers.get("stream-next-offset") as string;
    const poll = call(path, {}, `?offset=${offset}&live=long-poll`);
    await new Promise((r) => setTimeout(r, 50));
    await call(path, { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
    const res = await poll;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello");
  });

  it("reads a fork's inherited data from its source over RPC, after the source is soft-deleted", async () => {
    const source = unique("src");
    const fork = unique("fork");
    const put = await call(source, {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "inherited|",
    });
    const forkOffset = put.headers.get("stream-next-offset") as string;
    await call(source, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "not-in-fork",
    });
    const created = await call(fork, {
      method: "PUT",
      headers: { "stream-forked-from": `/v1/stream/${source}`, "stream-fork-offset": forkOffset },
    });
    expect(created.status).toBe(201);
    await call(fork, { method: "POST", headers: { "content-type": "text/plain" }, body: "own" });
    expect((await call(source, { method: "DELETE" })).status).toBe(204);
    expect((await call(source)).status).toBe(410);
    expect(await (await call(fork)).text()).toBe("inherited|own");
    expect((await call(fork, { method: "DELETE" })).status).toBe(204);
    expect((await call(source, { method: "HEAD" })).status).toBe(404);
  });

  it("rejects a body over STREAMS_MAX_APPEND_BYTES with 413 and appends nothing", async () => {
    const path = unique("big");
    await call(path, { method: "PUT", headers: { "content-type": "application/octet-stream" } });
    const res = await call(path, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array(65_537),
    });
    expect(res.status).toBe(413);
    const head = await call(path, { method: "HEAD" });
    expect(head.headers.get("stream-next-offset")).toBe("0000000000000000_0000000000000000");
  });
});
