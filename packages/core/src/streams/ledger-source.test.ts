/** `GET .../events` through the one reader: a ledger as a Durable Stream in JSON mode. */
import { describe, expect, it } from "vitest";
import { Ledger } from "../ledger/ledger.ts";
import { ManualClock } from "../testing/manual-clock.ts";
import { NodeSqlPort } from "../testing/node-sqlite.ts";
import { DEFAULT_LIVE_READ, ledgerReadSource, serveLedgerRead } from "./ledger-source.ts";
import { sseDataEvent } from "./read/framing.ts";

const metric = (value: number) => ({
  kind: "usage.recorded" as const,
  runId: null,
  data: { metric: "m", value },
});

function ledgerWith(count: number): { ledger: Ledger; clock: ManualClock } {
  const clock = new ManualClock();
  const ledger = new Ledger(new NodeSqlPort(), clock, []);
  for (let i = 1; i <= count; i++) ledger.append([metric(i)]);
  return { ledger, clock };
}

const get = (query: string, headers: Record<string, string> = {}) =>
  new Request(`http://agents.test/agents/a/s/events?${query}`, { headers });

describe("a ledger read source", () => {
  it("hands readers at the same position one chunk, and one serialized SSE data event", async () => {
    const { ledger, clock } = ledgerWith(3);
    const a = ledgerReadSource(ledger, clock, DEFAULT_LIVE_READ);
    const b = ledgerReadSource(ledger, clock, DEFAULT_LIVE_READ);
    const [first] = await a.read(1, 1 << 20);
    const [second] = await b.read(1, 1 << 20);
    expect(first?.events.map((e) => e.seq)).toEqual([2, 3]);
    expect(second).toBe(first);
    expect(sseDataEvent([second!], "json")).toBe(sseDataEvent([first!], "json"));
    ledger.append([metric(4)]);
    const [after] = await b.read(1, 1 << 20);
    expect(after).not.toBe(first);
    expect(after?.end).toBe(4);
  });

  it("shares a chunk only between readers whose reads shape it alike (maxEvents, maxBytes)", async () => {
    const { ledger, clock } = ledgerWith(5);
    const small = ledgerReadSource(ledger, clock, { ...DEFAULT_LIVE_READ, maxEvents: 2 });
    const large = ledgerReadSource(ledger, clock, DEFAULT_LIVE_READ);
    const [two] = await small.read(0, 1 << 20);
    const [all] = await large.read(0, 1 << 20);
    expect(two?.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(all?.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    const [twoAgain] = await small.read(0, 1 << 20);
    expect(twoAgain?.events.map((e) => e.seq)).toEqual([1, 2]);
    const [oneByBytes] = await large.read(0, 1);
    expect(oneByBytes?.events.map((e) => e.seq)).toEqual([1]);
  });

  it("serves catch-up reads as JSON arrays of events with their 16-digit offsets, never cached", async () => {
    const { ledger, clock } = ledgerWith(3);
    const response = await serveLedgerRead(
      get("offset=0000000000000001"),
      ledger,
      clock,
      DEFAULT_LIVE_READ,
    );
    expect(response.headers.get("stream-next-offset")).toBe("0000000000000003");
    expect(response.headers.get("stream-up-to-date")).toBe("true");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const events = (await response.json()) as { seq: number; offset: string }[];
    expect(events.map((e) => [e.seq, e.offset])).toEqual([
      [2, "0000000000000002"],
      [3, "0000000000000003"],
    ]);
  });

  it("stops a read at live.maxEvents and says where to continue", async () => {
    const { ledger, clock } = ledgerWith(5);
    const live = { ...DEFAULT_LIVE_READ, maxEvents: 2 };
    const response = await serveLedgerRead(get("offset=-1"), ledger, clock, live);
    expect(((await response.json()) as unknown[]).length).toBe(2);
    expect(response.headers.get("stream-next-offset")).toBe("0000000000000002");
    expect(response.headers.get("stream-up-to-date")).toBeNull();
  });

  it("ends at session.closed: Stream-Closed at the tail, a long-poll there answers at once", async () => {
    const { ledger, clock } = ledgerWith(2);
    ledger.append([{ kind: "session.closed", runId: null, data: { reason: "done" } }]);
    const tail = await serveLedgerRead(get("offset=now"), ledger, clock, DEFAULT_LIVE_READ);
    expect(tail.headers.get("stream-closed")).toBe("true");
    const poll = await serveLedgerRead(
      get("offset=0000000000000003&live=long-poll"),
      ledger,
      clock,
      DEFAULT_LIVE_READ,
    );
    expect(poll.status).toBe(204);
    expect(poll.headers.get("stream-closed")).toBe("true");
  });

  it("refuses an offset past the tail with a 400 that names the tail", async () => {
    const { ledger, clock } = ledgerWith(2);
    await expect(
      serveLedgerRead(get("offset=0000000000000009"), ledger, clock, DEFAULT_LIVE_READ),
    ).rejects.toMatchObject({ status: 400, code: "offset_out_of_range" });
  });
});
