import { afterEach, describe, expect, it } from "vitest";
import {
  createClient,
  DurableAgentsClientError,
  followRun,
  type LedgerEvent,
} from "../src/index.ts";
import { type FakeServer, type SseConnectionPlan, startFakeServer } from "./fake-server.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const fastRetry = { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 5 };

async function collect(
  stream: AsyncIterable<LedgerEvent>,
  limit = Infinity,
): Promise<LedgerEvent[]> {
  const out: LedgerEvent[] = [];
  for await (const event of stream) {
    out.push(event);
    if (out.length >= limit) break;
  }
  return out;
}

function seed(s: FakeServer, n: number): void {
  for (let i = 0; i < n; i++)
    s.append("assistant", "s1", "r1", "model.delta", { step: 0, text: `t${i}` });
}

describe("events over SSE", () => {
  it("reads the ledger from the start and ends at streamClosed", async () => {
    server = await startFakeServer({ sseBatch: 3 });
    seed(server, 10);
    server.closeStream("assistant", "s1");
    const stream = createClient({ baseUrl: server.url }).session("assistant", "s1").events();
    const events = await collect(stream);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(stream.position).toEqual({ offset: "0000000000000010", upToDate: true, closed: true });
  });

  it("resumes from an offset", async () => {
    server = await startFakeServer();
    seed(server, 5);
    server.closeStream("assistant", "s1");
    const session = createClient({ baseUrl: server.url }).session("assistant", "s1");
    const events = await collect(session.events({ offset: "0000000000000003" }));
    expect(events.map((e) => e.seq)).toEqual([4, 5]);
  });

  const cuts: SseConnectionPlan["cut"][] = ["clean", "before-control", "mid-data"];
  for (const cut of cuts) {
    it(`delivers every event exactly once, in order, when the server cuts (${cut}) after every event`, async () => {
      server = await startFakeServer({ ssePlan: () => ({ maxEvents: 1, cut }) });
      seed(server, 12);
      server.closeStream("assistant", "s1");
      const session = createClient({ baseUrl: server.url }).session("assistant", "s1");
      const events = await collect(session.events({ retry: fastRetry }));
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(server.sseConnections).toBeGreaterThanOrEqual(12);
    });
  }

  it("delivers a live run exactly once while the server cuts at every offset in turn", async () => {
    const modes: SseConnectionPlan["cut"][] = ["clean", "before-control", "mid-data"];
    server = await startFakeServer({
      paceMs: 2,
      ssePlan: (n) => ({ maxEvents: 1 + (n % 2), cut: modes[n % 3] ?? "clean" }),
    });
    const session = createClient({ baseUrl: server.url }).session("assistant", "live");
    const run = await session.start("What is 2+3?");
    const events = await collect(followRun(session, { ...run, retry: fastRetry }));
    const ledger = server.ledger("assistant", "live");
    expect(events.map((e) => e.seq)).toEqual(ledger.map((e) => e.seq));
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(events.map((e) => e.kind)).toContain("tool.completed");
  });

  it("paces reconnects to a server that closes idle streams at once, without giving up", async () => {
    server = await startFakeServer({ ssePlan: () => ({ maxEvents: 0, cut: "clean" }) });
    const session = createClient({ baseUrl: server.url }).session("assistant", "idle");
    const reading = collect(
      session.events({ signal: AbortSignal.timeout(2_200), retry: { maxAttempts: 1 } }),
    );
    await expect(reading).rejects.toMatchObject({ name: "TimeoutError" });
    expect(server.sseConnections).toBeGreaterThanOrEqual(2);
    expect(server.sseConnections).toBeLessThanOrEqual(3);
  });

  it("aborting the signal stops a live stream with the signal's reason", async () => {
    server = await startFakeServer();
    seed(server, 2);
    const controller = new AbortController();
    const session = createClient({ baseUrl: server.url }).session("assistant", "s1");
    const seen: number[] = [];
    const reading = (async () => {
      for await (const event of session.events({ signal: controller.signal })) {
        seen.push(event.seq);
        if (seen.length === 2) controller.abort(new Error("user stop"));
      }
    })();
    await expect(reading).rejects.toThrow("user stop");
    expect(seen).toEqual([1, 2]);
  });

  it("gives up after the retry budget with a network error when the server is gone", async () => {
    server = await startFakeServer();
    const url = server.url;
    await server.close();
    server = undefined;
    const session = createClient({ baseUrl: url }).session("assistant", "s1");
    const error = await collect(session.events({ retry: fastRetry })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DurableAgentsClientError);
    expect((error as DurableAgentsClientError).code).toBe("network_error");
    expect((error as DurableAgentsClientError).message).toContain(`cannot reach ${url}`);
  });

  it("throws a 4xx at once, without retrying", async () => {
    server = await startFakeServer();
    const session = createClient({ baseUrl: server.url }).session("assistant", "s1");
    const error = await collect(session.events({ offset: "garbage" })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "invalid_offset", status: 400, retryable: false });
    expect(server.requests.filter((r) => r.path.includes("/events"))).toHaveLength(1);
  });
});

describe("events over long-poll and catch-up", () => {
  it("catch-up ends when up to date", async () => {
    server = await startFakeServer();
    seed(server, 3);
    const stream = createClient({ baseUrl: server.url })
      .session("assistant", "s1")
      .events({ transport: "catch-up" });
    expect((await collect(stream)).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(stream.position.upToDate).toBe(true);
    expect(stream.position.closed).toBe(false);
  });

  it("long-poll follows a live run to the end", async () => {
    server = await startFakeServer();
    const session = createClient({ baseUrl: server.url }).session("assistant", "lp");
    const run = await session.start("hi");
    const events = await collect(followRun(session, { ...run, transport: "long-poll" }));
    expect(events.map((e) => e.seq)).toEqual(server.ledger("assistant", "lp").map((e) => e.seq));
  });
});

describe("events over WebSocket", () => {
  it("reads the ledger and ends at streamClosed", async () => {
    server = await startFakeServer();
    seed(server, 4);
    server.closeStream("assistant", "s1");
    const stream = createClient({ baseUrl: server.url })
      .session("assistant", "s1")
      .events({ transport: "ws" });
    expect((await collect(stream)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(stream.position).toEqual({ offset: "0000000000000004", upToDate: true, closed: true });
  });

  for (const cut of ["clean", "abrupt"] as const) {
    it(`delivers a live run exactly once when the socket closes (${cut}) after every event`, async () => {
      server = await startFakeServer({ paceMs: 2, wsPlan: () => ({ maxEvents: 1, cut }) });
      const session = createClient({ baseUrl: server.url }).session("assistant", "ws");
      const run = await session.start("What is 2+3?");
      const events = await collect(
        followRun(session, { ...run, transport: "ws", retry: fastRetry }),
      );
      expect(events.map((e) => e.seq)).toEqual(server.ledger("assistant", "ws").map((e) => e.seq));
      expect(events.at(-1)?.kind).toBe("run.completed");
      expect(server.wsConnections).toBeGreaterThanOrEqual(events.length);
    });
  }

  it("turns an error frame into a typed error without retrying", async () => {
    server = await startFakeServer();
    const session = createClient({ baseUrl: server.url }).session("assistant", "s1");
    const error = await collect(session.events({ transport: "ws", offset: "bogus" })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "invalid_offset", status: 400, retryable: false });
  });

  it("stops with the signal's reason when aborted", async () => {
    server = await startFakeServer();
    seed(server, 1);
    const controller = new AbortController();
    const session = createClient({ baseUrl: server.url }).session("assistant", "s1");
    const reading = (async () => {
      for await (const _ of session.events({ transport: "ws", signal: controller.signal })) {
        controller.abort(new Error("enough"));
      }
    })();
    await expect(reading).rejects.toThrow("enough");
  });
});
