/**
 * The client's WebSocket paths (`session.connect()` and `events({ transport: "ws" })`)
 * against the real session socket in workerd. The sockets are opened through
 * the test session's fetch (support/self-websocket.ts), which can also cut a
 * connection after some events, the way a network drops one.
 */
import { createClient, isRunEnd, type LedgerEvent, type LiveSession } from "@durable-agents/client";
import { afterEach, describe, expect, it } from "vitest";
import { selfWebSocket, type WsCut } from "./support/self-websocket.ts";
import { BASE, type SessionHandle, session } from "./support/session.ts";

const fastRetry = { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 20 };

let live: LiveSession | undefined;
afterEach(() => {
  live?.close();
  live = undefined;
});

function client(s: SessionHandle, plan?: (connection: number) => WsCut | undefined) {
  const socket = selfWebSocket(s.fetch, plan);
  const api = createClient({
    baseUrl: BASE,
    fetch: (input, init) => s.fetch(String(input), init),
    WebSocket: socket.WebSocket,
  }).session(s.agent, s.session);
  return { api, socket };
}

async function untilRunEnd(stream: AsyncIterable<LedgerEvent>): Promise<LedgerEvent[]> {
  const out: LedgerEvent[] = [];
  for await (const event of stream) {
    out.push(event);
    if (isRunEnd(event)) break;
  }
  return out;
}

async function collect(stream: AsyncIterable<LedgerEvent>): Promise<LedgerEvent[]> {
  const out: LedgerEvent[] = [];
  for await (const event of stream) out.push(event);
  return out;
}

describe("session.connect(): one WebSocket, events in, commands out", () => {
  it("starts a run over the socket and streams it", async () => {
    const s = session("chatty");
    const { api, socket } = client(s);
    live = api.connect();
    const run = await live.start("talk");
    expect(run).toMatchObject({ status: "running", offset: "0000000000000000" });
    const events = await untilRunEnd(live);
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(events).toEqual(await s.events());
    expect(JSON.parse(socket.sent[0] ?? "{}")).toEqual({
      type: "start",
      id: 1,
      input: { message: "talk" },
    });
  });

  it("maps a failed command to a typed error, with the server's words, and answers approvals", async () => {
    const s = session("approver");
    const { api, socket } = client(s);
    live = api.connect();
    const run = await live.start("pay them");
    const paused = await untilRunEnd(live);
    expect(paused.at(-1)?.kind).toBe("run.waiting");
    await expect(live.start("two")).rejects.toMatchObject({
      code: "run_active",
      status: 409,
      details: { runId: run.runId },
    });
    const [callId] = paused.flatMap((e) =>
      e.kind === "approval.requested" ? [e.data.callId] : [],
    );
    if (callId === undefined) throw new Error("the run asked for no approval");
    await expect(live.approve(callId, true)).resolves.toMatchObject({
      runId: run.runId,
      status: "waiting",
    });
    expect(socket.sent.slice(2).map((f) => JSON.parse(f))).toEqual([
      { type: "resume", id: 3, mode: "continue", approvals: [{ callId, approved: true }] },
    ]);
  });

  it("keeps every event exactly once across abrupt socket drops, and commands wait for the next socket", async () => {
    const s = session("chatty");
    const { api, socket } = client(s, (n) => (n < 6 ? { events: 2, cut: "abrupt" } : undefined));
    live = api.connect({ retry: { initialDelayMs: 1, maxDelayMs: 5 } });
    await live.start("talk");
    const events = await untilRunEnd(live);
    expect(events).toEqual(await s.events());
    // Each socket carries whole frames; the run outpaces the reconnects, so count only that some happened.
    expect(socket.connections()).toBeGreaterThan(1);
  });

  it("close() ends the iteration quietly and later commands reject", async () => {
    const { api } = client(session("chatty"));
    live = api.connect();
    const reading = collect(live);
    await new Promise((r) => setTimeout(r, 50));
    live.close();
    await expect(reading).resolves.toEqual([]);
    await expect(live.start("late")).rejects.toBeDefined();
  });

  it("sends heartbeats on an idle socket", async () => {
    const { api, socket } = client(session("chatty"));
    live = api.connect({ heartbeatMs: 30 });
    const pings = () => socket.sent.filter((f) => f === '{"type":"ping"}').length;
    for (let i = 0; i < 200 && pings() < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(pings()).toBeGreaterThanOrEqual(2);
  });
});

describe("events over WebSocket", () => {
  it("reads the ledger and ends at streamClosed", async () => {
    const s = session("chatty");
    await s.post("runs", { input: { message: "talk" } });
    await s.waitFor((e) => e.kind === "run.completed");
    expect((await s.post("close")).status).toBe(200);
    const stored = await s.events();
    const stream = client(s).api.events({ transport: "ws" });
    expect(await collect(stream)).toEqual(stored);
    expect(stream.position).toEqual({
      offset: stored.at(-1)?.offset,
      upToDate: true,
      closed: true,
    });
  });

  for (const cut of ["clean", "abrupt"] as const) {
    it(`delivers a live run exactly once when the socket closes (${cut}) after every event`, async () => {
      const s = session("chatty");
      const { api, socket } = client(s, () => ({ events: 1, cut }));
      const events: LedgerEvent[] = [];
      const reading = (async () => {
        for await (const event of api.events({ transport: "ws", retry: fastRetry })) {
          events.push(event);
          if (event.kind === "run.completed") return;
        }
      })();
      // The run starts once the first socket is open, so it arrives over several frames.
      while (socket.opened() === 0) await new Promise((r) => setTimeout(r, 5));
      await s.post("runs", { input: { message: "talk" } });
      await reading;
      expect(events).toEqual(await s.events());
      expect(socket.connections()).toBeGreaterThan(1);
    });
  }

  it("turns an error frame into a typed error without retrying", async () => {
    const s = session("chatty");
    const { api, socket } = client(s);
    const error = await collect(
      api.events({ transport: "ws", offset: "0000000000000009", retry: fastRetry }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "offset_out_of_range", status: 400, retryable: false });
    expect(socket.connections()).toBe(1);
  });

  it("stops with the signal's reason when aborted", async () => {
    const s = session("chatty");
    await s.post("runs", { input: { message: "talk" } });
    await s.waitFor((e) => e.kind === "run.completed");
    const controller = new AbortController();
    const reading = (async () => {
      for await (const _ of client(s).api.events({
        transport: "ws",
        signal: controller.signal,
      })) {
        controller.abort(new Error("enough"));
      }
    })();
    await expect(reading).rejects.toThrow("enough");
  });
});
