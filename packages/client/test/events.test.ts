/** Reading the ledger over SSE, long-poll and catch-up, from the real core handler over real HTTP. */
import { afterEach, describe, expect, it } from "vitest";
import { createClient, DurableAgentsClientError, followRun } from "../src/index.ts";
import type { RealServer, SseCut } from "./real-server.ts";
import { collect, fastRetry, finishedRun, ledger, start } from "./support.ts";

let server: RealServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const seqs = (events: { seq: number }[]) => events.map((e) => e.seq);

describe("events over SSE", () => {
  it("reads the ledger from the start and ends at streamClosed", async () => {
    server = await start();
    const stored = await finishedRun(server, "s1", { close: true });
    const stream = createClient({ baseUrl: server.url }).session("assistant", "s1").events();
    const events = await collect(stream);
    expect(events).toEqual(stored);
    expect(stream.position).toEqual({
      offset: stored.at(-1)?.offset,
      upToDate: true,
      closed: true,
    });
  });

  it("resumes from an offset", async () => {
    server = await start();
    const stored = await finishedRun(server, "s1", { close: true });
    const session = createClient({ baseUrl: server.url }).session("assistant", "s1");
    const events = await collect(session.events({ offset: "0000000000000003" }));
    expect(events).toEqual(stored.slice(3));
  });

  const cuts: SseCut["cut"][] = ["clean", "before-control", "mid-data"];
  for (const cut of cuts) {
    it(`delivers every event exactly once, in order, when the connection ends (${cut}) after every data frame`, async () => {
      server = await start({ ssePlan: () => ({ dataFrames: 1, cut }) });
      const stored = await finishedRun(server, "s1", { close: true });
      const session = createClient({ baseUrl: server.url }).session("assistant", "s1");
      const events = await collect(session.events({ retry: { ...fastRetry, maxAttempts: 50 } }));
      expect(events).toEqual(stored);
    });
  }

  it("delivers a live run exactly once while connections break at every frame in turn", async () => {
    const modes: SseCut["cut"][] = ["clean", "before-control", "mid-data"];
    server = await start({
      agents: [(await import("./agents.ts")).calculatorAgent("assistant", 2)],
      // The first connection breaks inside its first data frame, however fast the run is.
      ssePlan: (n) =>
        n === 0
          ? { dataFrames: 0, cut: "mid-data" }
          : { dataFrames: 1 + (n % 2), cut: modes[n % 3] ?? "clean" },
    });
    const session = createClient({ baseUrl: server.url }).session("assistant", "live");
    const run = await session.start("What is 2+3?");
    const events = await collect(
      followRun(session, { ...run, retry: { ...fastRetry, maxAttempts: 50 } }),
    );
    expect(events).toEqual(ledger(server, "assistant", "live"));
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(events.map((e) => e.kind)).toContain("tool.completed");
    expect(server.sseConnections).toBeGreaterThanOrEqual(2);
  });

  it("paces reconnects to a server that closes idle streams at once, without giving up", async () => {
    server = await start({ ssePlan: () => ({ dataFrames: 0, cut: "clean" }) });
    const session = createClient({ baseUrl: server.url }).session("assistant", "idle");
    const reading = collect(
      session.events({ signal: AbortSignal.timeout(2_200), retry: { maxAttempts: 1 } }),
    );
    await expect(reading).rejects.toMatchObject({ name: "TimeoutError" });
    expect(server.sseConnections).toBeGreaterThanOrEqual(2);
    expect(server.sseConnections).toBeLessThanOrEqual(3);
  });

  it("aborting the signal stops a live stream with the signal's reason", async () => {
    server = await start();
    await finishedRun(server, "s1");
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
    server = await start();
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
    server = await start();
    const session = createClient({ baseUrl: server.url }).session("assistant", "s1");
    const error = await collect(session.events({ offset: "garbage" })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "invalid_offset", status: 400, retryable: false });
    expect(server.requests.filter((r) => r.path.includes("/events"))).toHaveLength(1);
  });
});

describe("events over long-poll and catch-up", () => {
  it("catch-up ends when up to date", async () => {
    server = await start();
    const stored = await finishedRun(server, "s1");
    const stream = createClient({ baseUrl: server.url })
      .session("assistant", "s1")
      .events({ transport: "catch-up" });
    expect(seqs(await collect(stream))).toEqual(seqs(stored));
    expect(stream.position.upToDate).toBe(true);
    expect(stream.position.closed).toBe(false);
  });

  it("long-poll follows a live run to the end", async () => {
    server = await start();
    const session = createClient({ baseUrl: server.url }).session("assistant", "lp");
    const run = await session.start("hi");
    const events = await collect(followRun(session, { ...run, transport: "long-poll" }));
    expect(events).toEqual(ledger(server, "assistant", "lp"));
  });
});
