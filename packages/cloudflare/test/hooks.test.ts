import { defineAgent, scriptedModel } from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import { AgentNotFoundError, AgentRegistry } from "../src/index.ts";
import { hookLog } from "./fixture/platform.ts";
import { isTerminal, session } from "./support/session.ts";

afterEach(() => {
  hookLog.length = 0;
});

describe("server hooks, custom endpoints and transforms", () => {
  it("beforeStart and afterStart wrap a start; onComplete sees the completed run", async () => {
    const s = session("chatty");
    const response = await s.post("runs", { input: { message: "hi" } });
    expect(response.status).toBe(202);
    expect(response.headers.get("x-after-start")).toBe("1");
    const { runId } = (await response.json()) as { runId: string };
    await s.waitFor((e) => e.kind === "run.completed");
    for (let i = 0; i < 50 && !hookLog.some((l) => l.startsWith("onComplete")); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(hookLog).toEqual([
      `beforeStart:${s.session}`,
      `afterStart:${s.session}:202`,
      `onComplete:${s.session}:${runId}`,
    ]);
  });

  it("a before hook can abort with its own response, and nothing is written", async () => {
    const s = session("chatty");
    const response = await s.post("runs", { input: { message: "forbidden words" } });
    expect(response.status).toBe(422);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "blocked_by_hook",
    );
    expect(hookLog).toEqual([`beforeStart:${s.session}`]);
    expect(await s.events()).toEqual([]);
  });

  it("after hooks do not run when the action fails", async () => {
    const s = session("chatty");
    const response = await s.post("resume", {});
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(hookLog).toEqual([`beforeResume:${s.session}`]);
  });

  it("custom endpoints answer before the built-in routes, after auth and transformRequest", async () => {
    const s = session("probe");
    const hello = await s.get("hello");
    expect(await hello.json()).toEqual({
      hello: s.session,
      agent: "probe",
      transformed: "yes",
      status: "idle",
    });
    const custom = await s.fetch(s.url("status"), { method: "DELETE" });
    expect(await custom.json()).toEqual({ custom: "deleted" });
    // The built-in GET status is still there.
    expect((await s.get("status")).status).toBe(200);
  });

  it("transformResponse sees every response, errors included", async () => {
    const s = session("probe");
    expect((await s.get("status")).headers.get("x-served-by")).toBe("fixture");
    const missing = await s.get("nonsense");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-served-by")).toBe("fixture");
  });
});

describe("GET .../snapshot", () => {
  it("returns messages, state, status and an offset that continues without a gap", async () => {
    const s = session("chatty");
    await s.post("runs", { input: { message: "talk" } });
    await s.waitFor(isTerminal);
    const snapshot = (await (await s.get("snapshot")).json()) as {
      messages: unknown[];
      state: unknown;
      status: { status: string };
      offset: string;
    };
    expect(snapshot.messages).toEqual(await s.messages());
    expect(snapshot.status.status).toBe("completed");
    expect(snapshot.state).toBeNull();
    const events = await s.events();
    expect(snapshot.offset).toBe(events.at(-1)?.offset);
    expect(await s.events(snapshot.offset)).toEqual([]);
  });

  it("mid-run, reading on from the snapshot's offset gives the rest exactly once", async () => {
    const s = session("probe");
    await s.post("runs", { input: { message: "go" } });
    const snapshot = (await (await s.get("snapshot")).json()) as { offset: string };
    await s.waitFor(isTerminal);
    const all = await s.events();
    const rest = await s.events(snapshot.offset);
    expect([...all.filter((e) => e.offset <= snapshot.offset), ...rest]).toEqual(all);
  });
});

describe("AgentRegistry", () => {
  const make = (name: string) =>
    defineAgent({ name, system: "t", model: scriptedModel({ turns: [{ text: "ok" }] }) });

  it("register, registerFactory, resolve, has and types", () => {
    const registry = new AgentRegistry([make("fixed")]);
    const seen: string[] = [];
    registry.registerFactory("made", ({ type, session, env }) => {
      seen.push(`${type}/${session}/${String(env.MODEL)}`);
      return make(type);
    });
    expect(registry.types()).toEqual(["fixed", "made"]);
    expect(registry.has("made")).toBe(true);
    expect(registry.resolve("fixed").name).toBe("fixed");
    expect(registry.resolve("made", { session: "s1", env: { MODEL: "m" } }).name).toBe("made");
    expect(seen).toEqual(["made/s1/m"]);
  });

  it("an unknown type throws AgentNotFoundError listing the types; duplicates are refused", () => {
    const registry = new AgentRegistry([make("a"), make("b")]);
    const error = (() => {
      try {
        registry.resolve("c");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(AgentNotFoundError);
    expect(error).toMatchObject({ status: 404, details: { available: ["a", "b"] } });
    expect(() => registry.register(make("a"))).toThrow(/registered twice/);
    registry.registerFactory("wrong", () => make("other"));
    expect(() => registry.resolve("wrong")).toThrow(/returned an agent named/);
  });
});
