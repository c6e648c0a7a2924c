/**
 * Flow control of the session WebSocket (websocket-protocol.ts, websocket-hub.ts invariant 5)
 * in workerd, against a server with a 2 KiB window and a 1 s stall (fixture/throttled.ts): a
 * reader that never acks is paused at its window and closed with 4008, and resumes from its
 * offset losing nothing; a reader that acks streams a run many windows long on one socket; a
 * bad ack is refused and changes nothing; the client library acks by itself; every close the
 * server makes is announced by a last `closing` frame, on which the client resumes at once.
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { createClient, isRunEnd, type LedgerEvent } from "@durable-agents/client";
import { routeRequest } from "@durable-agents/cloudflare";
import { mintSessionToken } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { THROTTLED_WINDOW_BYTES as WINDOW } from "./fixture/throttled.ts";
import { selfWebSocket } from "./support/self-websocket.ts";
import { BASE, isTerminal } from "./support/session.ts";
import { openSocket, type TestSocket, type WireEvent } from "./support/ws-client.ts";

const SLOW_READER = { code: 4008, reason: "slow reader; reconnect from your offset" };
const encoder = new TextEncoder();

let counter = 0;

/** A gusher session on the throttled server (bound as THROTTLED, routed as the Worker does). */
async function throttled() {
  const name = `flow${Date.now()}_${++counter}`;
  const token = await mintSessionToken(env.AUTH_SECRET, { agent: "gusher", session: name });
  const fetch = (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${token}`);
    return routeRequest(new Request(url, { ...init, headers }), { ...env, AGENTS: env.THROTTLED });
  };
  const url = (action: string, query = "") =>
    `${BASE}/agents/gusher/${name}/${action}${query ? `?${query}` : ""}`;
  /** The whole ledger, page by page (a read carries at most `live.maxEvents`). */
  const events = async (): Promise<WireEvent[]> => {
    const all: WireEvent[] = [];
    for (let next = "-1"; ; ) {
      const response = await fetch(url("events", `offset=${next}`));
      all.push(...((await response.json()) as WireEvent[]));
      next = response.headers.get("stream-next-offset") ?? next;
      if (response.headers.get("stream-up-to-date") === "true") return all;
    }
  };
  const start = () =>
    fetch(url("runs"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "go" } }),
    });
  const ended = async () => {
    for (;;) {
      const all = await events();
      if (all.some(isTerminal)) return all;
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stub = () => env.THROTTLED.get(env.THROTTLED.idFromName(`gusher/${name}`));
  return { name, fetch, url, events, start, ended, stub };
}

/** The UTF-8 length of each events frame the socket got, in order. */
const eventFrameBytes = (socket: TestSocket) =>
  socket.raw.filter((_, i) => socket.frames[i]?.type === "events").map(byteLength);
const byteLength = (text: string) => encoder.encode(text).byteLength;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const eventFrames = (socket: TestSocket) => socket.frames.filter((f) => f.type === "events");
const results = (socket: TestSocket) => socket.frames.filter((f) => f.type === "result");

/** Acks as the protocol asks: after about half the window of events frames since the last ack. */
function ackAsItReads(socket: TestSocket): { acks: number } {
  const counts = { acks: 0 };
  let since = 0;
  socket.ws.addEventListener("message", (event) => {
    const text = String(event.data);
    const frame = JSON.parse(text) as { type: string; nextOffset?: string };
    if (frame.type !== "events") return;
    since += byteLength(text);
    if (since < WINDOW / 2) return;
    socket.send({ type: "ack", offset: frame.nextOffset });
    counts.acks++;
    since = 0;
  });
  return counts;
}

describe("WebSocket flow control", () => {
  it("pauses a reader that never acks at its window, closes it with 4008 after stallMs, and it resumes from its offset losing nothing", async () => {
    const s = await throttled();
    const silent = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    await silent.until((frames) => frames.length > 0);
    expect(silent.frames[0]).toEqual({ type: "flow", windowBytes: WINDOW });
    await s.start();
    const all = await s.ended();
    expect(sum(all.map((e) => byteLength(JSON.stringify(e))))).toBeGreaterThan(10 * WINDOW);
    expect(await silent.closed).toEqual(SLOW_READER);
    // The close is announced by one frame, the last, naming it: a client acts on it at once.
    expect(silent.frames.at(-1)).toEqual({ type: "closing", ...SLOW_READER });
    expect(silent.frames.filter((f) => f.type === "closing")).toHaveLength(1);
    // At most the window plus the one frame that crossed it.
    const sizes = eventFrameBytes(silent);
    expect(sum(sizes.slice(0, -1))).toBeLessThan(WINDOW);
    expect(sum(sizes)).toBeGreaterThanOrEqual(WINDOW);
    const got = silent.events();
    expect(got).toEqual(all.slice(0, got.length));
    // It reconnects from the offset of the last frame it processed (acking, this time).
    const from = eventFrames(silent).at(-1)?.nextOffset as string;
    const resumed = await openSocket(s.fetch, s.url("ws", `offset=${from}`));
    const reader = ackAsItReads(resumed);
    await resumed.until(() => resumed.events().some(isTerminal));
    expect([...got, ...resumed.events()]).toEqual(all);
    expect(reader.acks).toBeGreaterThan(5);
    expect(resumed.ws.readyState).toBe(WebSocket.OPEN);
    resumed.ws.close(1000);
  });

  it("keeps a reader that acks open over a run many windows long, everything once and in order", async () => {
    const s = await throttled();
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    const counts = ackAsItReads(socket);
    await s.start();
    await socket.until(() => socket.events().some(isTerminal));
    const all = await s.events();
    expect(socket.events()).toEqual(all);
    expect(sum(eventFrameBytes(socket))).toBeGreaterThan(10 * WINDOW);
    // Acks are answered with nothing: no result frame, no error.
    expect(results(socket)).toEqual([]);
    // A few acks per window, never one per frame.
    expect(counts.acks).toBeGreaterThan(5);
    expect(counts.acks).toBeLessThanOrEqual(Math.ceil(sum(eventFrameBytes(socket)) / (WINDOW / 2)));
    expect(counts.acks).toBeLessThan(eventFrames(socket).length);
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    socket.ws.close(1000);
  });

  it("keeps a reader open that acks well within stallMs while a catch-up keeps it at its window", async () => {
    const s = await throttled();
    await s.start();
    const all = await s.ended();
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    // A slow reader: it acks each events frame 300 ms after it arrives (a third of stallMs), so
    // its backlog of ~20 windows keeps it at its window between acks.
    let acks = 0;
    socket.ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as { type: string; nextOffset?: string };
      if (frame.type !== "events") return;
      setTimeout(() => {
        if (socket.ws.readyState !== WebSocket.OPEN) return;
        socket.send({ type: "ack", offset: frame.nextOffset });
        acks++;
      }, 300);
    });
    // Ten windows at a window per 300 ms take more than twice stallMs; the reader is never closed.
    const closed = await Promise.race([
      socket.until(() => sum(eventFrameBytes(socket)) >= 10 * WINDOW).then(() => undefined),
      socket.closed,
    ]);
    expect(closed).toBeUndefined();
    expect(acks).toBeGreaterThan(10);
    expect(socket.events()).toEqual(all.slice(0, socket.events().length));
    socket.ws.close(1000);
  });

  it("a socket that catches up on a closed session over several windows is closed 1000 at its end, as without flow control", async () => {
    const s = await throttled();
    await s.start();
    await s.ended();
    const close = await s.fetch(s.url("close"), { method: "POST" });
    await close.text();
    expect(close.status).toBeLessThan(300);
    const all = await s.events();
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    ackAsItReads(socket);
    expect(await socket.closed).toEqual({ code: 1000, reason: "stream closed" });
    expect(socket.events()).toEqual(all);
    expect(eventFrames(socket).at(-1)?.streamClosed).toBe(true);
    // After the streamClosed frame, the close is announced like every close the server makes.
    expect(socket.frames.slice(-2)).toEqual([
      eventFrames(socket).at(-1),
      { type: "closing", code: 1000, reason: "stream closed" },
    ]);
  });

  it("an event larger than the window still arrives, alone in its frame, and an ack of it moves the reader on", async () => {
    const s = await throttled();
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    ackAsItReads(socket);
    await socket.until((frames) => frames.length > 0);
    let version = 0;
    const record = async (note: string) => {
      const response = await s.fetch(s.url("state"), {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ state: { note }, expectedVersion: version++ }),
      });
      await response.text();
      expect(response.status).toBe(200);
    };
    await record("x".repeat(3 * WINDOW));
    await record("after");
    await socket.until(() => socket.events().length === 2);
    const sizes = eventFrameBytes(socket);
    expect(sizes[0]).toBeGreaterThan(3 * WINDOW);
    expect(socket.events()).toEqual(await s.events());
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    socket.ws.close(1000);
  });

  it("refuses a bad ack with invalid_ack and changes nothing: the paused reader stays paused", async () => {
    const s = await throttled();
    await s.start();
    const all = await s.ended();
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    await socket.until(() => eventFrames(socket).length > 0);
    const sent = eventFrames(socket).at(-1)?.nextOffset as string;
    const past = all.at(-1)?.offset as string;
    expect(past > sent).toBe(true);
    const bad = [
      { type: "ack", id: 1 },
      { type: "ack", id: 2, offset: "abc" },
      { type: "ack", id: 3, offset: "now" },
      { type: "ack", id: 4, offset: sent, extra: true },
      { type: "ack", id: 5, offset: past },
    ];
    for (const frame of bad) socket.send(frame);
    await socket.until(() => results(socket).length === bad.length);
    for (const [i, answer] of results(socket).entries()) {
      expect(answer).toMatchObject({
        id: i + 1,
        ok: false,
        error: { code: "invalid_ack", status: 400 },
      });
      expect((answer as { error: { message: string } }).error.message.length).toBeGreaterThan(30);
    }
    const before = socket.events().length;
    expect(await socket.closed).toEqual(SLOW_READER);
    expect(socket.events().length).toBe(before);
    expect(sum(eventFrameBytes(socket).slice(0, -1))).toBeLessThan(WINDOW);
    expect(await s.events()).toEqual(all);
  });

  it("a woken instance gives inherited sockets a fresh window, ignores their stale acks, and still pauses one that never acks", async () => {
    const s = await throttled();
    await s.start();
    const first = await s.ended();
    // Quirk (ws-hibernation.test.ts): evict only an instance that has not driven a run.
    await runInDurableObject(s.stub(), (_i, state) => state.abort("injected crash: fresh")).catch(
      () => {},
    );
    const acker = await openSocket(s.fetch, s.url("ws", "offset=now"));
    const silent = await openSocket(s.fetch, s.url("ws", "offset=now"));
    const counts = ackAsItReads(acker);
    await acker.until((frames) => frames.length > 0);
    await evictDurableObject(s.stub()); // the sockets hibernate; the instance is torn down
    // A stale ack (the tail before the object slept) is ignored: only the ping is answered.
    acker.send({ type: "ack", id: "stale", offset: first.at(-1)?.offset });
    acker.send({ type: "ping", id: "after" });
    await acker.until(() => results(acker).length > 0);
    expect(results(acker)).toEqual([
      { type: "result", id: "after", ok: true, status: 200, result: "pong" },
    ]);
    await s.start();
    await acker.until(() => acker.events().some(isTerminal));
    const all = await s.events();
    expect(acker.events()).toEqual(all.slice(first.length));
    expect(counts.acks).toBeGreaterThan(5);
    expect(await silent.closed).toEqual(SLOW_READER);
    // An inherited socket's close is announced too (the stall timer of the woken instance).
    expect(silent.frames.at(-1)).toEqual({ type: "closing", ...SLOW_READER });
    expect(sum(eventFrameBytes(silent).slice(0, -1))).toBeLessThan(WINDOW);
    expect(silent.events()).toEqual(all.slice(first.length, first.length + silent.events().length));
    acker.ws.close(1000);
  });

  it("a reader that never acks is not given a fresh window by each wake: paused and closed across many hibernations", async () => {
    const s = await throttled();
    const silent = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    await silent.until((frames) => frames.length > 0);
    const record = (i: number) =>
      s.fetch(s.url("usage"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ metric: "words", value: i, tags: { note: "x".repeat(200) } }),
      });
    // Each wake appends less than a window, so the reader is never paused and the object may
    // sleep again (nothing is pending); the reader never acks.
    let appended = 0;
    for (let cycle = 0; cycle < 6; cycle++) {
      await evictDurableObject(s.stub());
      for (let i = 0; i < 4; i++) {
        const response = await record(i);
        await response.text();
        expect(response.status).toBe(201);
      }
      appended += 4;
      await silent.until(() => silent.events().length === appended || silent.ws.readyState > 1);
    }
    // Over the sleeps it reaches its window, is paused and closed, like a reader that never sleeps.
    expect(await silent.closed).toEqual(SLOW_READER);
    expect(sum(eventFrameBytes(silent))).toBeLessThan(2 * WINDOW);
    expect(silent.events()).toEqual((await s.events()).slice(0, silent.events().length));
  });

  it("the client library acks by itself: a long run over one socket, never closed, every event once", async () => {
    const s = await throttled();
    const { api, socket } = client(s);
    const reading = readRun(api.events({ transport: "ws", offset: "-1" }));
    await s.start();
    const seen = await reading;
    const all = await s.events();
    expect(seen).toEqual(all);
    expect(sum(all.map((e) => byteLength(JSON.stringify(e))))).toBeGreaterThan(10 * WINDOW);
    expect(socket.connections()).toBe(1);
    const acks = socket.sent
      .map((f) => JSON.parse(f) as { type: string })
      .filter((f) => f.type === "ack");
    expect(acks.length).toBeGreaterThan(5);
    expect(acks.length).toBeLessThan(all.length / 4);
  });

  it("the client library resumes from its offset after a 4008 when its caller stops reading, every event once", async () => {
    const s = await throttled();
    const { api, socket } = client(s);
    // The caller stops for longer than stallMs after 20 events: no acks, so the server pauses it.
    const reading = readRun(api.events({ transport: "ws", offset: "-1" }), 20, 2_000);
    await s.start();
    const seen = await reading;
    expect(seen).toEqual(await s.events());
    expect(socket.connections()).toBe(2);
  });

  it("the client library resumes on the closing frame while the server's close is held up, and reconnects once", async () => {
    const s = await throttled();
    // The server's close events never reach the client until released (a proxy's late close).
    const { api, socket } = client(s, { holdCloses: true });
    const reading = readRun(api.events({ transport: "ws", offset: "-1" }), 20, 2_000);
    await s.start();
    // The second socket opens although the first one's close has not come.
    const resumed = (async () => {
      for (let i = 0; socket.opened() < 2; i++) {
        if (i === 500) throw new Error("no second socket while the first one's close is held");
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await Promise.race([
      resumed,
      reading.then(() => {
        throw new Error("the run was read to its end without a second socket");
      }),
    ]);
    socket.releaseCloses();
    const seen = await reading;
    expect(seen).toEqual(await s.events());
    expect(socket.connections()).toBe(2);
  });
});

function client(s: Awaited<ReturnType<typeof throttled>>, options: { holdCloses?: boolean } = {}) {
  const socket = selfWebSocket(s.fetch, undefined, options);
  const api = createClient({
    baseUrl: BASE,
    fetch: (input, init) => s.fetch(String(input), init),
    WebSocket: socket.WebSocket,
  }).session("gusher", s.name);
  return { api, socket };
}

/** Reads to the run's end; after `pauseAfter` events it stops reading for `pauseMs`. */
async function readRun(
  stream: AsyncIterable<LedgerEvent>,
  pauseAfter = Number.POSITIVE_INFINITY,
  pauseMs = 0,
): Promise<LedgerEvent[]> {
  const seen: LedgerEvent[] = [];
  for await (const event of stream) {
    seen.push(event);
    if (seen.length === pauseAfter) await new Promise((r) => setTimeout(r, pauseMs));
    if (isRunEnd(event)) break;
  }
  return seen;
}

declare global {
  namespace Cloudflare {
    interface Env {
      THROTTLED: DurableObjectNamespace;
    }
  }
}
