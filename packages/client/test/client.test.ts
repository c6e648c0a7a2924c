import { afterEach, describe, expect, it } from "vitest";
import { createClient, DurableAgentsClientError, waitForRun } from "../src/index.ts";
import { calculatorAgent, holdRuns, releaseHeld } from "./agents.ts";
import type { RealServer } from "./real-server.ts";
import { finishedRun, start } from "./support.ts";

let server: RealServer | undefined;
afterEach(async () => {
  releaseHeld();
  await server?.close();
  server = undefined;
});

async function setup(agent = "assistant") {
  server = await start();
  return { server, session: createClient({ baseUrl: server.url }).session(agent, "s1") };
}

describe("session API", () => {
  it("starts a run, follows it to the end, reads status and messages", async () => {
    const { session } = await setup();
    const run = await session.start("What is 2+3?");
    expect(run).toMatchObject({
      session: "s1",
      agent: "assistant",
      status: "running",
      offset: "0000000000000000",
    });
    const end = await waitForRun(session, run);
    expect(end).toMatchObject({
      kind: "run.completed",
      runId: run.runId,
      data: { output: "2 + 3 = 5." },
    });
    expect(await session.status()).toMatchObject({
      status: "completed",
      runId: run.runId,
      offset: end?.offset,
    });
    const page = await session.messages({ limit: 10 });
    expect(page.messages[0]).toMatchObject({
      role: "user",
      parts: [{ type: "text", text: "What is 2+3?" }],
    });
    expect(page.nextCursor).toBeNull();
  });

  it("starts a run with an image and model options; the user message carries the file", async () => {
    const { server, session } = await setup();
    const image = "data:image/png;base64,iVBORw0KGgo=";
    const run = await session.start("What is 2+3?", {
      files: [{ type: "image", image }],
      modelOptions: { temperature: 0 },
    });
    await waitForRun(session, run);
    expect(server.requests.find((r) => r.path.endsWith("/runs"))?.body).toEqual({
      input: { message: "What is 2+3?", files: [{ type: "image", image }] },
      modelOptions: { temperature: 0 },
    });
    const page = await session.messages({ limit: 1 });
    expect(page.messages[0]?.parts).toEqual([
      { type: "text", text: "What is 2+3?" },
      { type: "file", mediaType: "image/png", url: image },
    ]);
    const refused = await session
      .start("again", { files: [{ type: "image", image: "http://example.com/a.png" }] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DurableAgentsClientError);
    expect(refused).toMatchObject({ status: 400, code: "invalid_request" });
  });

  it("a start can choose the run's executor; the server takes it from the same start schema", async () => {
    const { server, session } = await setup();
    const run = await session.start("What is 2+3?", { executor: "alarm" });
    await waitForRun(session, run);
    expect(server.requests.find((r) => r.path.endsWith("/runs"))?.body).toEqual({
      input: { message: "What is 2+3?" },
      executor: "alarm",
    });
    const refused = await session
      .start("again", { executor: "cron" as "alarm" })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 400, code: "invalid_request" });
  });

  it("sends the server's own bodies for every control call, and the server accepts them", async () => {
    const { server, session } = await setup();
    await finishedRun(server, "s1");
    await session.interrupt({ reason: "enough" }).catch(() => {});
    await session.abort().catch(() => {});
    await session.resume({ mode: "with_message", message: "go on" }).catch(() => {});
    await session.approve("c1", false, { args: { x: 1 } }).catch(() => {});
    await session.retry("from_start").catch(() => {});
    const fork = await session.fork("1", { session: "s2" });
    expect(fork).toMatchObject({ agent: "assistant", session: "s2", events: 1 });
    await session.messages({ cursor: "1", limit: 5 });
    expect(server.requests.slice(-7).map((r) => [r.method, r.path, r.body])).toEqual([
      ["POST", "/agents/assistant/s1/interrupt", { reason: "enough" }],
      ["POST", "/agents/assistant/s1/abort", {}],
      ["POST", "/agents/assistant/s1/resume", { mode: "with_message", message: "go on" }],
      [
        "POST",
        "/agents/assistant/s1/resume",
        { mode: "continue", approvals: [{ callId: "c1", approved: false, args: { x: 1 } }] },
      ],
      ["POST", "/agents/assistant/s1/retry", { mode: "from_start" }],
      ["POST", "/agents/assistant/s1/fork", { checkpoint: "1", session: "s2" }],
      ["GET", "/agents/assistant/s1/messages?cursor=1&limit=5", undefined],
    ]);
    // Each refusal above is the server's decision about the run, never about the body's shape.
    const refusals = await Promise.all([
      session.interrupt({ reason: "enough" }).catch((e: unknown) => e),
      session.resume({ mode: "with_message", message: "go on" }).catch((e: unknown) => e),
      session.retry("from_start").catch((e: unknown) => e),
    ]);
    for (const refusal of refusals) expect(refusal).toMatchObject({ status: 409 });
  });

  it("encodes agent and session ids in the path", async () => {
    server = await start({ agents: [calculatorAgent("my-agent")] });
    await createClient({ baseUrl: `${server.url}/` })
      .session("my-agent", "a/b?c")
      .status();
    expect(server.requests[0]?.path).toBe("/agents/my-agent/a%2Fb%3Fc/status");
  });
});

describe("errors", () => {
  it("maps a 409 to run_active with the running run in details", async () => {
    const { session } = await setup("holder");
    holdRuns();
    const run = await session.start("one");
    const error = await session.start("two").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DurableAgentsClientError);
    expect(error).toMatchObject({
      name: "DurableAgentsClientError",
      code: "run_active",
      status: 409,
      retryable: false,
      details: { runId: run.runId, status: "running" },
      message: `session s1 already has run ${run.runId} running; interrupt or abort it, or wait for it to finish`,
    });
  });

  it("keeps the server's message verbatim for 4xx", async () => {
    const { session } = await setup();
    await session.start("hi");
    const error = await session.fork("9999", { session: "s2" }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "unknown_checkpoint",
      status: 404,
      message: 'session s1 has no checkpoint "9999"; list them with GET .../checkpoints',
    });
  });

  it("turns a non-JSON error body into http_<status>, retryable for 5xx", async () => {
    const fakeFetch: typeof fetch = async () =>
      new Response("upstream exploded", { status: 502, statusText: "Bad Gateway" });
    const error = await createClient({ fetch: fakeFetch })
      .session("a", "s")
      .status()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "http_502",
      status: 502,
      retryable: true,
      message: "server answered 502 Bad Gateway: upstream exploded",
    });
  });

  it("turns a non-JSON success body into bad_response", async () => {
    const fakeFetch: typeof fetch = async () => new Response("<html>", { status: 200 });
    const error = await createClient({ fetch: fakeFetch })
      .session("a", "s")
      .status()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "bad_response", retryable: false });
  });

  it("reports an unreachable server as network_error with the URL and the cause", async () => {
    const { server } = await setup();
    const url = server.url;
    await server.close();
    const error = await createClient({ baseUrl: url })
      .session("assistant", "s1")
      .start("hi")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "network_error",
      status: 0,
      retryable: true,
      message: `cannot reach ${url} (ECONNREFUSED)`,
    });
  });

  it("rejects with the signal's reason when a call is aborted", async () => {
    const { session } = await setup();
    const reason = new Error("stop");
    await expect(session.status({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it("sends the configured headers with every request", async () => {
    const seen: Headers[] = [];
    const fakeFetch: typeof fetch = async (_input, init) => {
      seen.push(new Headers(init?.headers));
      return Response.json({ agent: "a", session: "s", status: "idle", runId: null, offset: "-1" });
    };
    await createClient({ fetch: fakeFetch, headers: { authorization: "Bearer t" } })
      .session("a", "s")
      .status();
    expect(seen[0]?.get("authorization")).toBe("Bearer t");
  });
});

describe("token", () => {
  it("createClient({ token }) sends it as a Bearer header on every request, beside the configured headers", async () => {
    const seen: Headers[] = [];
    const fakeFetch: typeof fetch = async (_input, init) => {
      seen.push(new Headers(init?.headers));
      return Response.json({ agent: "a", session: "s", status: "idle", runId: null, offset: "-1" });
    };
    await createClient({ fetch: fakeFetch, headers: { "x-app": "1" }, token: "t0k" })
      .session("a", "s")
      .status();
    expect(seen[0]?.get("authorization")).toBe("Bearer t0k");
    expect(seen[0]?.get("x-app")).toBe("1");
  });
});

describe("base URL", () => {
  it("resolves a relative baseUrl against the page, as in a same-origin browser app", async () => {
    const seen: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      seen.push(String(input));
      return Response.json({ agent: "a", session: "s", status: "idle", runId: null, offset: "-1" });
    };
    const page = globalThis as { location?: unknown };
    page.location = { href: "https://app.example/chat/1" };
    try {
      await createClient({ baseUrl: "/api", fetch: fakeFetch }).session("a", "s").status();
    } finally {
      delete page.location;
    }
    expect(seen).toEqual(["https://app.example/api/agents/a/s/status"]);
  });
});
