import { afterEach, describe, expect, it } from "vitest";
import { createClient, isRunEnd, type LedgerEvent, type LiveSession } from "../src/index.ts";
import { type FakeServer, startFakeServer } from "./fake-server.ts";

let server: FakeServer | undefined;
let live: LiveSession | undefined;
afterEach(async () => {
  live?.close();
  live = undefined;
  await server?.close();
  server = undefined;
});

async function untilRunEnd(stream: AsyncIterable<LedgerEvent>): Promise<LedgerEvent[]> {
  const out: LedgerEvent[] = [];
  for await (const event of stream) {
    out.push(event);
    if (isRunEnd(event)) break;
  }
  return out;
}

describe("session.connect(): one WebSocket, events in, commands out", () => {
  it("starts a run over the socket and streams it", async () => {
    server = await startFakeServer();
    live = createClient({ baseUrl: server.url }).session("assistant", "w1").connect();
    const run = await live.start("What is 2+3?");
    expect(run).toMatchObject({ runId: "r1", status: "running", offset: "0000000000000000" });
    const events = await untilRunEnd(live);
    expect(events.map((e) => e.seq)).toEqual(server.ledger("assistant", "w1").map((e) => e.seq));
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(JSON.parse(server.wsFrames[0] ?? "{}")).toEqual({
      type: "start",
      id: 1,
      input: { message: "What is 2+3?" },
    });
  });

  it("maps a failed command to a typed error, with the server's words", async () => {
    server = await startFakeServer({ paceMs: 1_000 });
    live = createClient({ baseUrl: server.url }).session("assistant", "w2").connect();
    await live.start("one");
    await expect(live.start("two")).rejects.toMatchObject({
      code: "run_active",
      status: 409,
      details: { runId: "r1" },
    });
    await expect(live.interrupt({ reason: "stop" })).resolves.toMatchObject({ runId: "r1" });
    await expect(live.approve("c1", true)).resolves.toMatchObject({ status: "running" });
    expect(server.wsFrames.slice(2).map((f) => JSON.parse(f))).toEqual([
      { type: "interrupt", id: 3, reason: "stop" },
      { type: "resume", id: 4, mode: "continue", approvals: [{ callId: "c1", approved: true }] },
    ]);
  });

  it("keeps every event exactly once across abrupt socket drops, and commands wait for the next socket", async () => {
    server = await startFakeServer({
      paceMs: 3,
      wsPlan: (n) => (n < 6 ? { maxEvents: 2, cut: "abrupt" } : undefined),
    });
    live = createClient({ baseUrl: server.url })
      .session("assistant", "w3")
      .connect({ retry: { initialDelayMs: 1, maxDelayMs: 5 } });
    const run = await live.start("What is 2+3?");
    const events = await untilRunEnd(live);
    expect(events.map((e) => e.seq)).toEqual(server.ledger("assistant", "w3").map((e) => e.seq));
    expect(run.runId).toBe("r1");
    expect(server.wsConnections).toBeGreaterThan(3);
  });

  it("close() ends the iteration quietly and later commands reject", async () => {
    server = await startFakeServer();
    live = createClient({ baseUrl: server.url }).session("assistant", "w4").connect();
    const reading = (async () => {
      const seen: LedgerEvent[] = [];
      for await (const event of live as LiveSession) seen.push(event);
      return seen;
    })();
    await new Promise((r) => setTimeout(r, 50));
    live.close();
    await expect(reading).resolves.toEqual([]);
    await expect(live.start("late")).rejects.toBeDefined();
  });

  it("answers heartbeats: pings go out on an idle socket", async () => {
    server = await startFakeServer();
    live = createClient({ baseUrl: server.url })
      .session("assistant", "w5")
      .connect({ heartbeatMs: 30 });
    await new Promise((r) => setTimeout(r, 120));
    expect(server.wsFrames.filter((f) => f === '{"type":"ping"}').length).toBeGreaterThanOrEqual(2);
  });
});
