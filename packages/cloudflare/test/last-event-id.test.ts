import { describe, expect, it } from "vitest";
import { readSse as sseMessages } from "../../client/src/sse-parser.ts";
import { isTerminal, type SessionHandle, session } from "./support/session.ts";
import { readSse } from "./support/sse.ts";

/**
 * A browser EventSource reconnects with its original URL (here `?offset=-1`) plus
 * `Last-Event-ID`: the id of the last event it got. The header is the newer position and must
 * win, or a reader open past the 60 s rotation receives every event again.
 */
const RECONNECT = { "last-event-id": "0000000000000005" };

async function completedRun(): Promise<SessionHandle> {
  const s = session("probe");
  await s.post("runs", { input: { message: "go" } });
  await s.waitFor(isTerminal);
  return s;
}

/** The seqs of the first `event: data` of a `live=sse` read of `.../events` (the client's SSE parser). */
async function firstDataEvent(s: SessionHandle, headers: Record<string, string>) {
  const response = await s.fetch(s.url("events", "offset=-1&live=sse"), { headers });
  expect(response.status).toBe(200);
  for await (const message of sseMessages(response.body!)) {
    if (message.event === "data")
      return (JSON.parse(message.data) as { seq: number }[]).map((event) => event.seq);
  }
  throw new Error("the SSE response ended before a data event");
}

/** The ledger seq of an SSE chunk id `<offset>:<k>`. */
const seqOf = (id: string): number => Number(id.split(":")[0]);

describe("Last-Event-ID wins over ?offset= on every SSE read", () => {
  it("GET .../events?offset=-1&live=sse with Last-Event-ID 5 continues at seq 6", async () => {
    const s = await completedRun();
    expect((await firstDataEvent(s, {}))[0]).toBe(1);
    expect((await firstDataEvent(s, RECONNECT))[0]).toBe(6);
  });

  it("GET .../agui?offset=-1 with Last-Event-ID continues after that event", async () => {
    const s = await completedRun();
    const all = await readSse(
      s.fetch,
      s.url("agui", "offset=-1"),
      (e) => e.data.type === "RUN_FINISHED",
    );
    expect(seqOf(all[0]!.id)).toBeLessThanOrEqual(5);
    const resumed = await readSse(
      s.fetch,
      s.url("agui", "offset=-1"),
      (e) => e.data.type === "RUN_FINISHED",
      RECONNECT,
    );
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed.every((frame) => seqOf(frame.id) > 5)).toBe(true);
    expect(resumed).toEqual(all.filter((frame) => seqOf(frame.id) > 5));
  });

  it("GET .../ui-stream?offset=-1 with Last-Event-ID continues after that chunk", async () => {
    const s = await completedRun();
    const all = await readSse(s.fetch, s.url("ui-stream", "offset=-1"), () => false);
    const cut = all.findIndex((frame) => seqOf(frame.id) >= 5);
    const id = all[cut]!.id;
    const resumed = await readSse(s.fetch, s.url("ui-stream", "offset=-1"), () => false, {
      "last-event-id": id,
    });
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed).toEqual(all.slice(cut + 1));
  });
});

describe("a bad Last-Event-ID is refused by its name, not as an offset", () => {
  it("GET .../events (live=sse), .../agui and .../ui-stream: 400 naming Last-Event-ID and what to send", async () => {
    const s = await completedRun();
    for (const [route, query] of [
      ["events", "offset=-1&live=sse"],
      ["agui", "offset=-1"],
      ["ui-stream", "offset=-1"],
    ] as const) {
      for (const id of ["garbage", "9999999999999999"]) {
        const response = await s.fetch(s.url(route, query), { headers: { "last-event-id": id } });
        expect([route, id, response.status]).toEqual([route, id, 400]);
        const { error } = (await response.json()) as { error: { message: string } };
        expect(error.message, `${route} ${id}`).toContain(`Last-Event-ID "${id}"`);
        expect(error.message, `${route} ${id}`).not.toContain("Stream-Next-Offset");
        expect(error.message, `${route} ${id}`).toContain("reconnect without it");
      }
    }
    // A bad ?offset= is still named as the offset it is.
    const response = await s.fetch(s.url("events", "offset=garbage&live=sse"));
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message).toContain('offset "garbage" is not a ledger offset');
  });
});
