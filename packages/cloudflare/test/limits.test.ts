import { env, runInDurableObject } from "cloudflare:test";
import { createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import {
  Ledger,
  type LedgerEvent,
  LIMITS,
  mintSessionToken,
  PayloadTooLargeError,
  SESSION_PROJECTIONS,
  systemClock,
} from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { doSqlPort } from "../src/index.ts";
import { pager, THROTTLED_TOOL_RESULT_BYTES } from "./fixture/throttled.ts";
import { BASE, isTerminal, session } from "./support/session.ts";

describe("limits (docs/limits.md)", () => {
  it("a body over maxBodyBytes (maxStartBodyBytes for a start) is a 413, and nothing is written", async () => {
    const s = session("chatty");
    const response = await s.post("interrupt", { reason: "x".repeat(LIMITS.maxBodyBytes) });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      error: { code: "payload_too_large", details: { limitBytes: LIMITS.maxBodyBytes } },
    });
    const start = await s.post("runs", {
      input: { message: "x".repeat(LIMITS.maxStartBodyBytes) },
    });
    expect(start.status).toBe(413);
    expect(await start.json()).toMatchObject({
      error: { code: "payload_too_large", details: { limitBytes: LIMITS.maxStartBodyBytes } },
    });
    expect(await s.events()).toEqual([]);
  });

  it("a message over maxMessageChars is refused with the field named", async () => {
    const s = session("chatty");
    const response = await s.post("runs", {
      input: { message: "y".repeat(LIMITS.maxMessageChars + 1) },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
      "input.message",
    );
    expect(await s.events()).toEqual([]);
  });

  it("a tool result over maxToolResultBytes is a clear tool error, not a stored row", async () => {
    const s = session("bulky");
    await s.post("runs", { input: { message: "fetch" } });
    await s.waitFor(isTerminal);
    const events = await s.events();
    const failed = events.find((e) => e.kind === "tool.failed");
    expect(failed?.data).toMatchObject({
      name: "bulky",
      error: { message: expect.stringContaining(`more than ${LIMITS.maxToolResultBytes} bytes`) },
    });
    expect(events.some((e) => e.kind === "tool.completed")).toBe(false);
    expect(Math.max(...events.map((e) => JSON.stringify(e.data).length))).toBeLessThan(
      LIMITS.maxToolResultBytes,
    );
  });

  it("createAgentServer({ limits }) reaches the runtime: a tool result under the default and over the class's limit fails", async () => {
    // A pager session on ThrottledSession (bound THROTTLED; limits.maxToolResultBytes 2,048),
    // routed as the Worker routes it.
    const name = `pager${Date.now()}`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "pager", session: name });
    const call = (action: string, init: RequestInit = {}) =>
      routeRequest(
        new Request(`${BASE}/agents/pager/${name}/${action}`, {
          ...init,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        }),
        { ...env, AGENTS: env.THROTTLED },
      );
    const started = await call("runs", {
      method: "POST",
      body: JSON.stringify({ input: { message: "read" } }),
    });
    expect(started.status).toBe(202);
    let events: LedgerEvent[] = [];
    for (let i = 0; i < 400 && !events.some((e) => isTerminal(e)); i++) {
      await new Promise((r) => setTimeout(r, 25));
      events = (await (await call("events?offset=-1")).json()) as LedgerEvent[];
    }
    expect(events.find((e) => e.kind === "tool.failed")?.data).toMatchObject({
      name: "page",
      error: { message: expect.stringContaining(`more than ${THROTTLED_TOOL_RESULT_BYTES} bytes`) },
    });
    expect(events.some((e) => e.kind === "tool.completed")).toBe(false);
  });

  it("createAgentServer refuses limits that are not whole numbers ≥ 1 when the class is made", () => {
    expect(() => createAgentServer({ agents: [pager], limits: { maxToolResultBytes: 0 } })).toThrow(
      /limits.maxToolResultBytes must be a whole number ≥ 1, got 0/,
    );
    expect(() => createAgentServer({ agents: [pager], limits: { maxModelAttempts: 1.5 } })).toThrow(
      RangeError,
    );
  });

  it("an event over maxEventBytes is refused whole: the ledger is unchanged", async () => {
    const s = session("chatty");
    await s.post("runs", { input: { message: "hi" } });
    await s.waitFor(isTerminal);
    const before = await s.events();
    await runInDurableObject(s.stub(), (_instance, state) => {
      const ledger = new Ledger(doSqlPort(state.storage), systemClock, SESSION_PROJECTIONS);
      const huge = {
        kind: "usage.recorded" as const,
        runId: null,
        data: { metric: "m", value: 1, tags: { blob: "é".repeat(LIMITS.maxEventBytes / 2) } },
      };
      const small = {
        kind: "usage.recorded" as const,
        runId: null,
        data: { metric: "m", value: 1 },
      };
      expect(() => ledger.append([small, huge])).toThrow(PayloadTooLargeError);
      expect(ledger.tail).toBe(before.length);
    });
    expect(await s.events()).toEqual(before);
    expect((await (await s.get("usage")).json()) as { metrics: unknown[] }).toMatchObject({
      metrics: [],
    });
  });
});
