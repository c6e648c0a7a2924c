/**
 * Group commit: appends that wait while a commit is in flight share the next transaction,
 * and each is still decided exactly as if it ran alone (offsets, producers, Stream-Seq,
 * close, bad bodies), in arrival order.
 */
import { describe, expect, it } from "vitest";
import { MemoryStreamServer } from "../memory-server.ts";
import type { MemoryStreamStore } from "../memory-store.ts";
import type { StreamContext } from "../stream-context.ts";
import { streamReadSource } from "../stream-read-source.ts";
import type { AppendInput, AppendReply } from "./append-input.ts";
import { GroupCommit } from "./group-commit.ts";

const BASE = "http://streams.test/v1/stream/";
const encoder = new TextEncoder();

/** A stream on the in-memory server, and a group commit whose first commit stays in flight until `land()`. */
async function stream(contentType = "text/plain") {
  const server = new MemoryStreamServer();
  await server.fetch(
    new Request(`${BASE}s`, { method: "PUT", headers: { "content-type": contentType } }),
  );
  const ctx = server.context("s");
  let land!: () => void;
  const inFlight = new Promise<void>((resolve) => {
    land = resolve;
  });
  let commits = 0;
  const group = new GroupCommit(() => (commits++ === 0 ? inFlight : Promise.resolve()));
  const read = async () => (await server.fetch(new Request(`${BASE}s?offset=-1`))).text();
  return { ctx, group, land, read, commits: () => commits };
}

const input = (body: string, extra: Partial<AppendInput> = {}): AppendInput => ({
  contentType: "text/plain",
  close: false,
  producer: null,
  streamSeq: null,
  body: encoder.encode(body),
  ...extra,
});

/** Settle every append; rejections become their error codes. */
const settle = (appends: Promise<AppendReply>[]) =>
  Promise.all(
    appends.map((p) =>
      p.then(
        (reply) => reply,
        (error: { code?: string }) => error.code ?? String(error),
      ),
    ),
  );

describe("GroupCommit", () => {
  it("puts appends that arrive during a commit into one next commit, each with its own offset, in order", async () => {
    const { ctx, group, land, read } = await stream();
    const first = group.append(ctx, input("a"));
    const rest = ["b", "c", "d"].map((body) => group.append(ctx, input(body)));
    land();
    const replies = await Promise.all([first, ...rest]);
    expect(group.stats).toEqual({ batches: 2, appends: 4 });
    expect(replies.map((r) => r.nextOffset.slice(-4))).toEqual(["0001", "0002", "0003", "0004"]);
    expect(replies.every((r) => r.status === 204)).toBe(true);
    expect(await read()).toBe("abcd");
  });

  it("judges producers, Stream-Seq, close and bad bodies in a batch exactly as one by one", async () => {
    const { ctx, group, land, read } = await stream("application/json");
    const json = (body: string, extra: Partial<AppendInput> = {}) =>
      input(body, { contentType: "application/json", ...extra });
    const p = (seq: number, epoch = 0) => ({ producer: { producerId: "p", epoch, seq } });
    const first = group.append(ctx, json('{"n":0}', p(0)));
    const batch = [
      json('{"n":1}', p(1)), // accepted
      json('{"n":1}', p(1)), // duplicate of the one just before it, in the same batch
      json('{"n":3}', p(3)), // gap: expected 2
      json("{not json", p(2)), // bad body: rejected, changes nothing
      json('{"n":2}', p(2)), // accepted: the bad body did not take seq 2
      json('{"s":"b"}', { streamSeq: "b" }),
      json('{"s":"a"}', { streamSeq: "a" }), // Stream-Seq regression within the batch
      json('{"n":0}', p(0, 1)), // new epoch
      json('{"n":9}', p(5)), // stale epoch now
      json("", { close: true }),
      json('{"late":true}'), // after the close in the same batch
    ].map((i) => group.append(ctx, i));
    land();
    const [head, ...outcomes] = await settle([first, ...batch]);
    expect(head).toMatchObject({ status: 200, producer: { epoch: 0, seq: 0 } });
    expect(outcomes).toEqual([
      expect.objectContaining({ status: 200, producer: { epoch: 0, seq: 1 } }),
      expect.objectContaining({ status: 204, producer: { epoch: 0, seq: 1 } }),
      "producer_sequence_gap",
      "invalid_body",
      expect.objectContaining({ status: 200, producer: { epoch: 0, seq: 2 } }),
      expect.objectContaining({ status: 204 }),
      "stream_seq_regression",
      expect.objectContaining({ status: 200, producer: { epoch: 1, seq: 0 } }),
      "stale_producer_epoch",
      expect.objectContaining({ status: 204, closed: true }),
      "stream_closed",
    ]);
    expect(group.stats.batches).toBe(2);
    expect(JSON.parse(await read())).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }, { s: "b" }, { n: 0 }]);
    expect(ctx.store.getProducer("p")).toEqual({ epoch: 1, lastSeq: 0 });
  });

  it("fails every append of a batch whose commit fails, and keeps none of it", async () => {
    const { ctx, group, land, read } = await stream();
    const first = group.append(ctx, input("a"));
    const store = ctx.store as MemoryStreamStore;
    const failing: StreamContext = {
      ...ctx,
      store: Object.assign(Object.create(store) as MemoryStreamStore, {
        transaction: () => {
          throw new Error("disk full");
        },
      }),
    };
    const batch = [group.append(failing, input("b")), group.append(failing, input("c"))];
    land();
    await first;
    expect(await settle(batch)).toEqual(["Error: disk full", "Error: disk full"]);
    expect(await read()).toBe("a");
  });
});

describe("live readers and commits", () => {
  it("a commit that lands between a reader's state() and its wait wakes it at once", async () => {
    const { ctx, group } = await stream();
    const meta = ctx.store.getMeta();
    if (meta === null) throw new Error("no stream");
    const source = streamReadSource(ctx, meta);
    const seen = await source.state();
    // The commit (and its notify) happens before the reader starts waiting.
    await group.append(ctx, input("x"));
    const stop = new AbortController();
    let woke = false;
    void source.waitForChange(60_000, stop.signal).then(() => {
      woke = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    stop.abort();
    expect(seen.tail).toBe(0);
    expect(woke).toBe(true);
  });
});
