/**
 * Tier 3: WebSocket flow control (docs/delivery.md, "Flow control") under a real `wrangler dev`
 * (test/ws-flow-worker: a 4 KiB window, a 1 s stall), with Node's own WebSocket (undici) over
 * TCP: a third-party reader that never acks is paused at its window and closed with 4008, and
 * resumes from its offset losing nothing; the client library streams a run far larger than the
 * window over one socket, acking by itself.
 */
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { createClient, isRunEnd, type LedgerEvent } from "@durable-agents/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev.ts";
import { getJson, tempState } from "./e2e-support.ts";

const WINDOW = 4_096;
const WORKER = resolve(import.meta.dirname, "../ws-flow-worker");
const state = tempState("e2e-ws-flow");
const encoder = new TextEncoder();
let dev: WranglerDev;

beforeAll(async () => {
  dev = await startWranglerDev({
    cwd: WORKER,
    persistTo: state,
    env: { CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
});
afterAll(async () => {
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
});

interface Frame {
  type: string;
  events?: LedgerEvent[];
  nextOffset?: string;
  windowBytes?: number;
  code?: number;
  reason?: string;
}

/** A raw socket's frames (with their UTF-8 length) and how it closed. */
function open(url: string, ack: boolean) {
  const ws = new WebSocket(url);
  const frames: { frame: Frame; bytes: number }[] = [];
  let since = 0;
  let acks = 0;
  const closed = new Promise<{ code: number; reason: string }>((done) => {
    ws.onclose = (event) => done({ code: event.code, reason: event.reason });
  });
  ws.onmessage = (message) => {
    const text = String(message.data);
    const frame = JSON.parse(text) as Frame;
    const bytes = encoder.encode(text).byteLength;
    frames.push({ frame, bytes });
    if (!ack || frame.type !== "events") return;
    since += bytes;
    if (since * 2 < WINDOW) return;
    ws.send(JSON.stringify({ type: "ack", offset: frame.nextOffset }));
    acks++;
    since = 0;
  };
  const events = () => frames.flatMap(({ frame }) => frame.events ?? []);
  return { ws, frames, closed, events, acks: () => acks };
}

const session = (name: string) => `${dev.baseUrl}/agents/gusher/${name}`;
const wsUrl = (name: string, offset: string) =>
  `${session(name).replace(/^http/, "ws")}/ws?offset=${offset}`;

async function start(name: string): Promise<void> {
  const response = await fetch(`${session(name)}/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input: { message: "go" } }),
  });
  expect(response.status).toBe(202);
}

async function ledger(name: string): Promise<LedgerEvent[]> {
  for (;;) {
    const all = await getJson<LedgerEvent[]>(`${session(name)}/events?offset=-1`);
    if (all.some(isRunEnd)) return all;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 20));
}

describe("WebSocket flow control under wrangler dev", () => {
  it("a reader that never acks gets at most the window and a frame, is closed 4008, and resumes from its offset with every event once", async () => {
    const silent = open(wsUrl("never-acks", "-1"), false);
    await new Promise((done) => silent.ws.addEventListener("open", done));
    await start("never-acks");
    const all = await ledger("never-acks");
    expect(await silent.closed).toEqual({
      code: 4008,
      reason: "slow reader; reconnect from your offset",
    });
    expect(silent.frames[0]?.frame).toEqual({ type: "flow", windowBytes: WINDOW });
    // The last frame names the close, so a client need not wait for the close handshake.
    expect(silent.frames.at(-1)?.frame).toEqual({
      type: "closing",
      code: 4008,
      reason: "slow reader; reconnect from your offset",
    });
    const eventFrames = silent.frames.filter((f) => f.frame.type === "events");
    const sizes = eventFrames.map((f) => f.bytes);
    expect(sizes.slice(0, -1).reduce((a, b) => a + b, 0)).toBeLessThan(WINDOW);
    const got = silent.events();
    const from = eventFrames.at(-1)?.frame.nextOffset ?? "-1";
    const resumed = open(wsUrl("never-acks", from), true);
    await until(() => resumed.events().some(isRunEnd));
    expect([...got, ...resumed.events()]).toEqual(all);
    expect(resumed.acks()).toBeGreaterThan(5);
    expect(resumed.ws.readyState).toBe(WebSocket.OPEN);
    resumed.ws.close(1000);
  });

  it("the client library over Node's WebSocket: a run many windows long on one socket, every event once, a few acks", async () => {
    const sockets: WebSocket[] = [];
    const acks: string[] = [];
    /** Node's WebSocket, recording the sockets opened and the acks sent. */
    class Recorded extends WebSocket {
      constructor(url: string | URL) {
        super(url);
        sockets.push(this);
      }
      override send(data: string): void {
        if (data.includes('"type":"ack"')) acks.push(data);
        super.send(data);
      }
    }
    const api = createClient({ baseUrl: dev.baseUrl, WebSocket: Recorded }).session(
      "gusher",
      "client-acks",
    );
    const seen: LedgerEvent[] = [];
    const reading = (async () => {
      for await (const event of api.events({ transport: "ws", offset: "-1" })) {
        seen.push(event);
        if (isRunEnd(event)) return;
      }
    })();
    await until(() => sockets[0]?.readyState === WebSocket.OPEN);
    await start("client-acks");
    await reading;
    const all = await ledger("client-acks");
    expect(seen).toEqual(all);
    const bytes = all.reduce((n, e) => n + encoder.encode(JSON.stringify(e)).byteLength, 0);
    expect(bytes).toBeGreaterThan(10 * WINDOW);
    expect(sockets.length).toBe(1);
    expect(acks.length).toBeGreaterThan(5);
    expect(acks.length).toBeLessThan(all.length / 4);
  });
  it("the client library reconnects on the closing frame, before the old socket's close event arrives, and once", async () => {
    // Through wrangler's proxy, Node's WebSocket fires `close` long after the server's close
    // frame (the closing handshake): a client that waits for it sits idle meanwhile.
    const log: string[] = [];
    let announced = () => {};
    const closeAnnounced = new Promise<void>((done) => {
      announced = done;
    });
    let firstClosed = () => {};
    const firstClose = new Promise<void>((done) => {
      firstClosed = done;
    });
    class Logged extends WebSocket {
      constructor(url: string | URL) {
        super(url);
        const n = log.filter((entry) => entry.startsWith("new ")).length;
        log.push(`new ${n}`);
        this.addEventListener("message", (message) => {
          if (!String(message.data).includes('"type":"closing"')) return;
          log.push(`closing ${n}`);
          announced();
        });
        this.addEventListener("close", () => {
          log.push(`close ${n}`);
          // Without the frame, the close event is the only cue.
          announced();
          if (n === 0) firstClosed();
        });
      }
    }
    const api = createClient({ baseUrl: dev.baseUrl, WebSocket: Logged }).session(
      "gusher",
      "client-closing",
    );
    const stop = new AbortController();
    const seen: LedgerEvent[] = [];
    // The caller stops reading after 20 events (no acks: the server pauses the socket and closes
    // it 4008 after its stall) and reads on once the close is announced.
    const reading = (async () => {
      for await (const event of api.events({
        transport: "ws",
        offset: "-1",
        signal: stop.signal,
      })) {
        seen.push(event);
        if (seen.length === 20) await closeAnnounced;
      }
    })().catch((error: unknown) => {
      if (!stop.signal.aborted) throw error;
    });
    await until(() => log.includes("new 0"));
    await start("client-closing");
    const all = await ledger("client-closing");
    await until(() => seen.some(isRunEnd));
    // Keep reading until the first socket's late close event has come, then stop.
    await firstClose;
    stop.abort();
    await reading;
    expect(seen).toEqual(all);
    // The second socket was asked for before the first one's close event, and only one.
    expect(log.indexOf("new 1"), log.join(", ")).toBeLessThan(log.indexOf("close 0"));
    expect(log.filter((entry) => entry.startsWith("new "))).toEqual(["new 0", "new 1"]);
    expect(log.slice(0, 2)).toEqual(["new 0", "closing 0"]);
  });
});
