/** The delivery window: one flush per window for every live reader of a session. */
import { describe, expect, it } from "vitest";
import { Ledger } from "../ledger/ledger.ts";
import { ManualClock } from "../testing/manual-clock.ts";
import { NodeSqlPort } from "../testing/node-sqlite.ts";
import { DeliveryWindow } from "./delivery-window.ts";
import { DEFAULT_LIVE_READ, serveLedgerRead } from "./ledger-source.ts";

const metric = (value: number) => ({
  kind: "usage.recorded" as const,
  runId: null,
  data: { metric: "m", value },
});

const microtasks = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function setup(windowMs: number) {
  const clock = new ManualClock();
  const ledger = new Ledger(new NodeSqlPort(), clock, []);
  const window = new DeliveryWindow(ledger, clock, windowMs);
  const flushes: number[] = [];
  window.onFlush(() => flushes.push(ledger.tail));
  return { clock, ledger, window, flushes };
}

/**
 * A window of `windowMs` whose flushes each cost `costMs` on the clock (the fan-out's time),
 * recording the time each flush started in `flushes`. The first append has been flushed (at
 * `start`) and a second one appended right after it, waiting for the next flush.
 */
async function costlyFlushes(windowMs: number, costMs: number) {
  const clock = new ManualClock();
  const ledger = new Ledger(new NodeSqlPort(), clock, []);
  const window = new DeliveryWindow(ledger, clock, windowMs);
  const flushes: number[] = [];
  window.onFlush(() => {
    flushes.push(clock.now());
    clock.advance(costMs);
  });
  const start = clock.now();
  ledger.append([metric(1)]);
  await microtasks();
  ledger.append([metric(2)]);
  return { clock, flushes, start };
}

describe("the delivery window", () => {
  it("flushes the first append at once, then at most once per window, carrying every append since", async () => {
    const { clock, ledger, flushes } = setup(20);
    ledger.append([metric(1)]);
    expect(flushes).toEqual([]); // not in the append's own tick
    await microtasks();
    expect(flushes).toEqual([1]);
    for (let i = 2; i <= 6; i++) {
      ledger.append([metric(i)]);
      clock.advance(3);
      await microtasks();
    }
    // 15 ms after the first flush: still inside the window.
    expect(flushes).toEqual([1]);
    clock.advance(5);
    await microtasks();
    expect(flushes).toEqual([1, 6]);
    // Nothing appended: no flush.
    clock.advance(100);
    await microtasks();
    expect(flushes).toEqual([1, 6]);
  });

  it("with a window of 0 tells listeners in the append's own tick", () => {
    const { ledger, flushes } = setup(0);
    ledger.append([metric(1)]);
    ledger.append([metric(2)]);
    expect(flushes).toEqual([1, 2]);
  });

  it("stretches the gap after a flush that took longer than the window", async () => {
    // Each flush (a fan-out) costs 50 ms, more than the window.
    const { clock, flushes, start } = await costlyFlushes(10, 50);
    clock.advance(10);
    await microtasks();
    expect(flushes).toEqual([start]); // the window alone (10 ms) has passed, the gap (50) not
    clock.advance(40);
    await microtasks();
    expect(flushes).toEqual([start, start + 100]);
  });

  it("counts the window from a flush's start, so a flush cheaper than the window does not lengthen it", async () => {
    // Each flush (a fan-out) costs 8 ms, less than the window.
    const { clock, flushes, start } = await costlyFlushes(20, 8);
    clock.advance(11); // 19 ms after the first flush started
    await microtasks();
    expect(flushes).toEqual([start]);
    clock.advance(1); // 20 ms: the window has passed, and the gap after the end (12) ≥ its cost (8)
    await microtasks();
    expect(flushes).toEqual([start, start + 20]);
  });

  it("after a flush that took more than half the window, waits its cost from its end", async () => {
    // Each flush costs 15 ms: the window's 20 would leave the run only 5.
    const { clock, flushes, start } = await costlyFlushes(20, 15);
    clock.advance(14); // 20 ms after the start, 14 after the end
    await microtasks();
    expect(flushes).toEqual([start]);
    clock.advance(1); // 15 ms after the end: fan-out has half of the object's time
    await microtasks();
    expect(flushes).toEqual([start, start + 30]);
  });
});

describe("waiting for the next flush", () => {
  it("releases each waiter at the flush, at its own timeout, or on its abort", async () => {
    const { clock, ledger, window } = setup(20);
    const released: string[] = [];
    const wait = (name: string, timeoutMs: number, signal = new AbortController().signal) =>
      window.next(timeoutMs, signal).then(() => released.push(name));
    const cut = new AbortController();
    void wait("short", 100);
    void wait("long", 1_000);
    void wait("cut", 1_000, cut.signal);
    void wait("later", 500);
    cut.abort();
    await microtasks();
    expect(released).toEqual(["cut"]);
    clock.advance(100);
    await microtasks();
    expect(released).toEqual(["cut", "short"]);
    // A flush releases everyone still waiting; a waiter after it waits for the next one.
    ledger.append([metric(1)]);
    await microtasks();
    expect(released.sort()).toEqual(["cut", "later", "long", "short"]);
    void wait("next", 50);
    clock.advance(49);
    await microtasks();
    expect(released).not.toContain("next");
    clock.advance(1);
    await microtasks();
    expect(released).toContain("next");
    // An aborted signal resolves at once; aborting again later releases nothing twice.
    await window.next(1_000, cut.signal);
  });

  it("keeps no timer armed once nobody waits", async () => {
    const clock = new ManualClock();
    const ledger = new Ledger(new NodeSqlPort(), clock, []);
    let sleeping = 0;
    const counting = {
      now: () => clock.now(),
      sleep: (ms: number, signal?: AbortSignal) => {
        sleeping++;
        const done = () => sleeping--;
        signal?.addEventListener("abort", done, { once: true });
        return clock.sleep(ms, signal).finally(() => {
          signal?.removeEventListener("abort", done);
          if (!signal?.aborted) sleeping--;
        });
      },
    };
    const window = new DeliveryWindow(ledger, counting, 20);
    const waits = Array.from({ length: 100 }, () =>
      window.next(30_000, new AbortController().signal),
    );
    expect(sleeping).toBe(1); // one timeout timer for 100 waiters
    ledger.append([metric(1)]);
    await Promise.all(waits);
    for (let i = 0; i < 3; i++) await microtasks();
    expect(sleeping).toBe(0);
  });
});

/** Reads SSE `data` events (JSON arrays of events) from a live `/events` response. */
async function sseReader(response: Response) {
  const seqs: number[] = [];
  let frames = 0;
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const pump = async (): Promise<void> => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!block.startsWith("event: data")) continue;
        frames++;
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5))
          .join("\n");
        for (const event of JSON.parse(data) as { seq: number }[]) seqs.push(event.seq);
      }
    }
  };
  return { seqs, frames: () => frames, done: pump(), cancel: () => reader.cancel() };
}

describe("live readers on the window", () => {
  it("an SSE reader gets every event exactly once, in order, one data event per window", async () => {
    const clock = new ManualClock();
    const ledger = new Ledger(new NodeSqlPort(), clock, []);
    const live = { ...DEFAULT_LIVE_READ, windowMs: 20 };
    const response = await serveLedgerRead(
      new Request("http://agents.test/agents/a/s/events?offset=now&live=sse"),
      ledger,
      clock,
      live,
    );
    const reader = await sseReader(response);
    await microtasks();
    // 3 windows of 10 appends each, 2 ms apart.
    for (let window = 0; window < 3; window++) {
      for (let i = 0; i < 10; i++) {
        ledger.append([metric(i)]);
        clock.advance(2);
        await microtasks();
      }
    }
    clock.advance(40);
    for (let i = 0; i < 5; i++) await microtasks();
    expect(reader.seqs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // The first append leaves at once; then one write per 20 ms window, not one per append.
    expect(reader.frames()).toBeLessThanOrEqual(5);
    await reader.cancel();
  });

  it("SSE readers at one offset share the data event, each with its own control event", async () => {
    const clock = new ManualClock();
    const ledger = new Ledger(new NodeSqlPort(), clock, []);
    const live = { ...DEFAULT_LIVE_READ, windowMs: 20 };
    const open = async (query: string) => {
      const response = await serveLedgerRead(
        new Request(`http://agents.test/agents/a/s/events?offset=now&live=sse${query}`),
        ledger,
        clock,
        live,
      );
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      void (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += value;
        }
      })();
      return { text: () => text, cancel: () => reader.cancel() };
    };
    // Two readers without a cursor, one whose cursor is ahead of the clock (PROTOCOL.md 10.1).
    const readers = [await open(""), await open(""), await open("&cursor=99999999")];
    await microtasks();
    for (let i = 1; i <= 3; i++) {
      ledger.append([metric(i)]);
      clock.advance(20);
      await microtasks();
    }
    for (let i = 0; i < 5; i++) await microtasks();
    const events = readers.map((r) =>
      r
        .text()
        .split("\n\n")
        .filter((e) => e.length > 0),
    );
    const controls = events.map((list) => list.filter((e) => e.startsWith("event: control")));
    const data = events.map((list) => list.filter((e) => e.startsWith("event: data")));
    expect(data[1]).toEqual(data[0]);
    expect(data[2]).toEqual(data[0]);
    expect(data[0]?.join("")).toContain('"seq":3');
    expect(controls[1]).toEqual(controls[0]);
    const cursors = (list: string[] | undefined) =>
      (list ?? []).map((e) => /"streamCursor":"(-?\d+)"/.exec(e)?.[1]);
    expect(cursors(controls[2]).every((c) => Number(c) > 99999999)).toBe(true);
    expect(cursors(controls[0]).every((c) => Number(c) < 99999999)).toBe(true);
    for (const list of controls)
      expect(list.at(-1)).toContain(`"streamNextOffset":"${"3".padStart(16, "0")}"`);
    for (const reader of readers) await reader.cancel();
  });

  it("ends an SSE reader that does not take its write within stallMs; it resumes from its offset", async () => {
    const clock = new ManualClock();
    const ledger = new Ledger(new NodeSqlPort(), clock, []);
    const live = { ...DEFAULT_LIVE_READ, windowMs: 0, stallMs: 1_000 };
    const response = await serveLedgerRead(
      new Request("http://agents.test/agents/a/s/events?offset=-1&live=sse"),
      ledger,
      clock,
      live,
    );
    // Nobody reads the body: its first write (event 1) stays unread, so 2..50 are not read for it.
    ledger.append([metric(1)]);
    await microtasks();
    for (let i = 2; i <= 50; i++) ledger.append([metric(i)]);
    await microtasks();
    clock.advance(1_000);
    await microtasks();
    // Ended: what it holds is one write, and the stream closes after it.
    const text = await response.text();
    const offsets = [...text.matchAll(/"streamNextOffset":"(\d+)"/g)].map((m) => Number(m[1]));
    const delivered = [...text.matchAll(/"seq":(\d+)/g)].map((m) => Number(m[1]));
    expect(delivered.length).toBeLessThan(50);
    expect(offsets.at(-1)).toBe(delivered.at(-1) ?? 0);
    // Its client resumes from that offset and gets the rest, nothing twice.
    const resumed = await serveLedgerRead(
      new Request(
        `http://agents.test/agents/a/s/events?offset=${String(offsets.at(-1)).padStart(16, "0")}`,
      ),
      ledger,
      clock,
      live,
    );
    const rest = ((await resumed.json()) as { seq: number }[]).map((e) => e.seq);
    expect([...delivered, ...rest]).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });
});
