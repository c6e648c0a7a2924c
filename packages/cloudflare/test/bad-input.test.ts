import { env, SELF } from "cloudflare:test";
import { LIMITS, sessionRoutes } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { routeRequest } from "../src/index.ts";
import { probe } from "./fixture/probe.ts";
import { BASE, isTerminal, session } from "./support/session.ts";

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

async function expectError(response: Response, status: number, code: string): Promise<ErrorBody> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/json");
  const body = (await response.json()) as ErrorBody;
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(20);
  return body;
}

describe("bad input gets a 4xx JSON error and changes nothing", () => {
  const cases: [string, string | undefined, number, string][] = [
    ["malformed JSON", '{"input": {"message": "hi"', 400, "malformed_json"],
    ["an empty body", undefined, 400, "empty_body"],
    ["a missing field", JSON.stringify({ input: {} }), 400, "invalid_request"],
    ["a wrong-typed field", JSON.stringify({ input: { message: 42 } }), 400, "invalid_request"],
    ["an empty message", JSON.stringify({ input: { message: "" } }), 400, "invalid_request"],
    [
      "a body that is too large",
      JSON.stringify({ input: { message: "x".repeat(LIMITS.maxStartBodyBytes) } }),
      413,
      "payload_too_large",
    ],
  ];
  for (const [what, body, status, code] of cases) {
    it(`start with ${what}`, async () => {
      const s = session("probe");
      await expectError(await s.post("runs", body), status, code);
      expect(await s.status()).toMatchObject({
        status: "idle",
        runId: null,
        offset: "0000000000000000",
      });
      expect(await s.events()).toEqual([]);
    });
  }

  it("names the fields that failed validation", async () => {
    const s = session("probe");
    const body = await expectError(
      await s.post("runs", { input: { message: 42 } }),
      400,
      "invalid_request",
    );
    expect(body.error.message).toContain("input.message");
  });

  it("an unknown agent is a 404 that lists the agents", async () => {
    const s = session("nobody");
    const body = await expectError(
      await s.post("runs", { input: { message: "hi" } }),
      404,
      "agent_not_found",
    );
    expect(body.error.details).toMatchObject({
      available: expect.arrayContaining(["chatty", "probe"]),
    });
  });

  // A path naming no valid session is checked as its agent (agent:<agent>, one-door.test.ts):
  // a token of that agent hears why; without one, the refusal.
  it("an invalid session id is a 400 to a caller with a token of its agent", async () => {
    const response = await session("probe").fetch(`${BASE}/agents/probe/bad%20id!/status`);
    await expectError(response, 400, "invalid_path");
    await expectError(
      await SELF.fetch(`${BASE}/agents/probe/bad%20id!/status`),
      401,
      "unauthorized",
    );
  });

  it("a session id past the limit is refused with its length and the limit, shown cut with a mark", async () => {
    const long = "a".repeat(300);
    const response = await session("probe").fetch(`${BASE}/agents/probe/${long}/status`);
    const body = await expectError(response, 400, "invalid_path");
    expect(body.error.message).toBe(
      `the session id "${"a".repeat(40)}…" (300 characters) is too long: the limit is 128 characters; use 1-128 letters, digits, _, - or . (starting with a letter or digit)`,
    );
    // An id within the limit whose characters are wrong is shown whole, as before.
    const bad = await session("probe").fetch(`${BASE}/agents/probe/bad%20id!/status`);
    expect((await expectError(bad, 400, "invalid_path")).error.message).toBe(
      'the session id "bad id!" is invalid; use 1-128 letters, digits, _, - or . (starting with a letter or digit)',
    );
  });

  const malformed = [
    "/agents/assistant/%E0/status",
    "/agents/probe/%/status",
    "/agents/probe/%zz/status",
    "/agents/probe/%C0%AF/status",
    "/agents/probe/%ED%A0%80/status",
  ];
  for (const path of malformed) {
    it(`malformed percent-encoding (${path}) is a 400, not a 500`, async () => {
      const agent = path.split("/")[2] ?? "";
      const response = await session(agent).fetch(`${BASE}${path}`);
      const body = await expectError(response, 400, "invalid_path");
      expect(body.error.message).toContain("percent-encoding");
    });
  }

  it("an agent name in malformed percent-encoding is no agent a token names: refused, not a 500", async () => {
    const response = await session("probe").fetch(`${BASE}/agents/%ff/x/status`);
    await expectError(response, 403, "wrong_session");
  });

  it("an id has one canonical form: %70e-X and pe-X are the same session", async () => {
    const s = session("probe", `pe-${Date.now()}`);
    const encoded = `${BASE}/agents/probe/%70${s.session.slice(1)}`;
    // The token names the decoded id; it opens the encoded path, which reaches the same object.
    const started = await s.fetch(`${encoded}/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "one session" } }),
    });
    expect(started.status).toBe(202);
    await s.waitFor(isTerminal);
    const status = (await (await s.fetch(`${encoded}/status`)).json()) as { session: string };
    expect(status.session).toBe(s.session);
    expect((await s.events()).filter((e) => e.kind === "run.started")).toHaveLength(1);
  });

  it(`JSON nested deeper than ${LIMITS.maxJsonDepth} levels is a 400 on every body, and changes nothing`, async () => {
    const s = session("probe");
    const deep = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
    const put = (state: string) =>
      s.fetch(s.url("state"), {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: `{"state":${state},"expectedVersion":0}`,
      });
    const tooDeep = await expectError(await put(deep(10_000)), 400, "json_too_deep");
    expect(tooDeep.error.details).toEqual({ maxDepth: LIMITS.maxJsonDepth });
    await expectError(await put(deep(LIMITS.maxJsonDepth)), 400, "json_too_deep");
    const schedule = await s.fetch(s.url("schedules"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"kind":"kick","delayMs":0,"payload":{"message":${deep(10_000)}}}`,
    });
    await expectError(schedule, 400, "json_too_deep");
    const start = await s.post("runs", `{"input":{"message":"x","state":${deep(5_000)}}}`);
    await expectError(start, 400, "json_too_deep");
    expect(await s.events()).toEqual([]);
    // At the limit (the body object is one level) the state is accepted and read back whole.
    const atLimit = deep(LIMITS.maxJsonDepth - 1);
    expect((await put(atLimit)).status).toBe(200);
    const read = (await (await s.get("state")).json()) as { state: unknown };
    expect(JSON.stringify(read.state)).toBe(atLimit);
  });

  for (const offset of ["abc", "12", "-2", "00000000000000001"]) {
    it(`an invalid offset (${offset}) is a 400`, async () => {
      const s = session("probe");
      await expectError(await s.get("events", `offset=${offset}`), 400, "invalid_offset");
    });
  }

  it("an offset past the tail is a 400 that says where the tail is", async () => {
    const s = session("probe");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor(isTerminal);
    const tail = (await s.status()).offset;
    const body = await expectError(
      await s.get("events", "offset=0000000000009999"),
      400,
      "offset_out_of_range",
    );
    expect(body.error.details).toEqual({ tail });
    expect((await s.status()).offset).toBe(tail);
  });

  it("a second start while a run is active is a 409 naming the run", async () => {
    const s = session("probe");
    probe.close("slow_echo"); // hold the first run so it is still active for the second start
    const first = (await (await s.post("runs", { input: { message: "go" } })).json()) as {
      runId: string;
    };
    const second = await s.post("runs", { input: { message: "again" } });
    const body = await expectError(second, 409, "run_active");
    expect(body.error.details).toMatchObject({ runId: first.runId });
    expect(body.error.message).toContain(first.runId);
    probe.open("slow_echo");
    await s.waitFor(isTerminal);
  });

  it("unknown routes and methods are 404 and 405", async () => {
    const s = session("probe");
    const unknown = await expectError(await s.get("nonsense"), 404, "unknown_route");
    // It lists every session action the object serves: the route table's, and the WebSocket.
    const listed = /use one of: (.+)$/.exec(unknown.error.message)?.[1]?.split(", ");
    expect(listed?.sort()).toEqual([...Object.keys(sessionRoutes()), "ws"].sort());
    await expectError(await s.get("runs"), 405, "method_not_allowed");
    // The WebSocket's route is a route: another method than GET is a 405, not an unknown route.
    const socketPost = await s.post("ws", {});
    await expectError(socketPost, 405, "method_not_allowed");
    expect(socketPost.headers.get("allow")).toBe("GET");
    await expectError(await SELF.fetch(`${BASE}/nowhere`), 404, "not_found");
    // A door this Worker does not serve says what would serve it (the README's Worker binds no STREAMS
    // and gives no `mcp`).
    const { STREAMS: _, ...noStreams } = env as typeof env & { STREAMS?: DurableObjectNamespace };
    const stream = await routeRequest(new Request(`${BASE}/v1/stream/x`), noStreams, undefined, {
      server: { agents: [], options: {} },
    });
    const streamBody = await expectError(stream, 404, "not_found");
    expect(streamBody.error.message).toContain("STREAMS");
    const mcp = await routeRequest(
      new Request(`${BASE}/mcp/probe`, { method: "POST" }),
      env,
      undefined,
      {
        server: { agents: [], options: {} },
      },
    );
    const mcpBody = await expectError(mcp, 404, "not_found");
    expect(mcpBody.error.message).toContain("serveAgentMcp");
    const slash = await expectError(await SELF.fetch(`${BASE}/mcp/probe/`), 404, "not_found");
    expect(slash.error.message).toContain("trailing slash");
  });

  it("the 404 of a path that is no route lists the routes this Worker serves, from their declarations", async () => {
    const { STREAMS: _, ...noStreams } = env as typeof env & { STREAMS?: DurableObjectNamespace };
    // The README's Worker: no index, no STREAMS, no MCP.
    const bare = await routeRequest(new Request(`${BASE}/nowhere`), noStreams, undefined, {
      server: { agents: [], options: {} },
    });
    const { message } = (await expectError(bare, 404, "not_found")).error;
    expect(message).toMatch(/^no route for GET \/nowhere; /);
    // Every built-in session route (the route table's), and the WebSocket.
    const actions = /\/agents\/:agent\/:session\/\{([^}]+)\}/.exec(message)?.[1]?.split(",");
    expect(actions?.sort()).toEqual([...Object.keys(sessionRoutes()), "ws"].sort());
    expect(message).toContain("POST /chat/:agent and GET /chat/:agent/:id/stream");
    // Nothing this Worker does not serve.
    expect(message).not.toContain("/sessions");
    expect(message).not.toContain("/v1/stream");
    expect(message).not.toContain("/mcp");
    // The fixture Worker serves the index, Durable Streams and MCP: each is listed.
    const full = (await expectError(await SELF.fetch(`${BASE}/nowhere`), 404, "not_found")).error;
    expect(full.message).toContain("the index is GET /sessions and GET /usage");
    expect(full.message).toContain("Durable Streams are /v1/stream/:name");
    expect(full.message).toContain("MCP is /mcp/:agent");
  });

  it("interrupt and abort without an active run are 409", async () => {
    const s = session("probe");
    await expectError(await s.post("interrupt"), 409, "no_active_run");
    await expectError(await s.post("abort", { reason: "x" }), 409, "no_active_run");
    expect(await s.events()).toEqual([]);
  });
});
