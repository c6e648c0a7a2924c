import { stream } from "@durable-streams/client";
import { describe, expect, it } from "vitest";
import { isTerminal, session } from "./support/session.ts";

interface ErrorBody {
  error: { code: string };
}

describe("closing a session ends its stream", () => {
  it("refuses while a run is active; then closes once, for good", async () => {
    const s = session("chatty");
    await s.post("runs", { input: { message: "talk" } });
    const early = await s.post("close");
    if (early.status === 409)
      expect(((await early.json()) as ErrorBody).error.code).toBe("run_active");
    await s.waitFor(isTerminal);
    const closed = await s.post("close", { reason: "done" });
    expect(closed.status).toBe(200);
    expect(await closed.json()).toMatchObject({ closed: true });
    const tail = (await s.status()).offset;
    expect((await s.post("close")).status).toBe(200);
    expect((await s.status()).offset).toBe(tail);

    const again = await s.post("runs", { input: { message: "more" } });
    expect(again.status).toBe(409);
    expect(((await again.json()) as ErrorBody).error.code).toBe("session_closed");
    const schedule = await s.post("schedules", { kind: "kick", delayMs: 0 });
    expect(schedule.status).toBe(409);
    expect((await s.status()).offset).toBe(tail);
  });

  it("readers see Stream-Closed at the tail: catch-up, long-poll (at once) and SSE", async () => {
    const s = session("chatty");
    await s.post("runs", { input: { message: "talk" } });
    await s.waitFor(isTerminal);
    await s.post("close");
    const events = await s.events();
    expect(events.at(-1)?.kind).toBe("session.closed");
    const tail = events.at(-1)!.offset;

    const catchUp = await s.get("events", `offset=${tail}`);
    expect(catchUp.headers.get("stream-closed")).toBe("true");
    expect(await catchUp.json()).toEqual([]);

    const poll = await s.get("events", `offset=${tail}&live=long-poll`);
    expect(poll.status).toBe(204);
    expect(poll.headers.get("stream-closed")).toBe("true");

    const sse = await s.get("events", `offset=${events.at(-3)!.offset}&live=sse`);
    const text = await sse.text(); // the server ends the response after the closing control event
    expect(text).toContain('"kind":"session.closed"');
    expect(text.trim().split("\n\n").at(-1)).toContain('"streamClosed":true');

    const official = await stream({
      url: s.url("events"),
      fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
        s.fetch(new Request(input, init).url, { headers: init?.headers })) as typeof fetch,
      live: false,
      warnOnHttp: false,
    });
    await official.json();
    expect(official.streamClosed).toBe(true);
  });
});
