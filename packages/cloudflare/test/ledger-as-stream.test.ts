import { stream } from "@durable-streams/client";
import { describe, expect, it } from "vitest";
import { isTerminal, type SessionHandle, session } from "./support/session.ts";

/** The official Durable Streams client reading a session ledger (catch-up and live). */
function fetchFor(s: SessionHandle): typeof fetch {
  return ((input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    return s.fetch(request.url, {
      method: request.method,
      headers: request.headers,
      signal: init?.signal ?? null,
    });
  }) as typeof fetch;
}

describe("a session ledger is a Durable Stream", () => {
  it("catch-up with @durable-streams/client returns the whole ledger", async () => {
    const s = session("probe");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor(isTerminal);
    const response = await stream<{ seq: number; kind: string }>({
      url: s.url("events"),
      fetch: fetchFor(s),
      live: false,
      warnOnHttp: false,
    });
    const items = await response.json();
    expect(items.map((e) => e.seq)).toEqual((await s.events()).map((e) => e.seq));
    expect(response.upToDate).toBe(true);
  });

  it("live SSE with @durable-streams/client follows a run as it happens", async () => {
    const s = session("chatty");
    const controller = new AbortController();
    const response = await stream<{ seq: number; kind: string }>({
      url: s.url("events"),
      fetch: fetchFor(s),
      live: "sse",
      offset: "-1",
      signal: controller.signal,
      warnOnHttp: false,
    });
    const seen: { seq: number; kind: string }[] = [];
    const done = new Promise<void>((resolve) => {
      response.subscribeJson((batch) => {
        seen.push(...batch.items);
        if (batch.items.some((e) => e.kind === "run.completed")) resolve();
      });
    });
    await s.post("runs", { input: { message: "talk" } });
    await done;
    controller.abort();
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.at(-1)?.kind).toBe("run.completed");
  });
});
