/**
 * Tier 3: the real quickstart under `wrangler dev`. The CLI talks to it as a user
 * would; a crash is SIGKILL of the whole wrangler process group, then a restart on
 * the same persisted state.
 */
import { rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { mintSessionToken, mintStreamToken } from "@durable-agents/core";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import {
  getJson,
  isTerminal,
  readLedger,
  runCli,
  startQuickstart,
  startRun,
  tempState,
  waitForLedger,
} from "./e2e-support.ts";

const states: string[] = [];
let dev: WranglerDev | undefined;

afterEach(async () => {
  await dev?.stop();
  dev = undefined;
});
afterAll(() => {
  for (const state of states) rmSync(state, { recursive: true, force: true });
});

function newState(prefix: string): string {
  const state = tempState(prefix);
  states.push(state);
  return state;
}

describe("quickstart under wrangler dev", () => {
  it("the CLI chat streams the answer, shows the tool call, prints the session id and exits 0", async () => {
    dev = await startQuickstart(newState("e2e-chat"));
    const result = await runCli(["chat", "What is 2+3?", "--url", dev.baseUrl]);

    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('→ calculator({"expression":"2+3"})');
    expect(result.stdout).toContain("2+3 = 5");
    const session = result.stdout.match(/^session: (\S+)$/m)?.[1];
    expect(session).toBeDefined();

    const status = await getJson<{ status: string }>(
      `${dev.baseUrl}/agents/assistant/${session}/status`,
    );
    expect(status.status).toBe("completed");
    // One rule at every door: the Worker's own routes let in what the session routes do.
    await getJson(`${dev.baseUrl}/sessions`);
    await getJson(`${dev.baseUrl}/usage`);
    // But not to another page in the developer's browser, another site's or one on another
    // loopback port (any dev server, `python3 -m http.server`): its Origin reaches the Worker
    // through wrangler dev's proxy, and neither a no-cors POST nor a WebSocket gets in.
    const otherPort = `http://127.0.0.1:${Number(new URL(dev.baseUrl).port) + 1}`;
    for (const page of ["https://evil.example", otherPort]) {
      const post = await fetch(`${dev.baseUrl}/agents/assistant/${session}/runs`, {
        method: "POST",
        headers: { origin: page, "content-type": "text/plain" },
        body: JSON.stringify({ input: { message: "spend the key" } }),
      });
      expect([page, post.status]).toEqual([page, 403]);
      expect(await post.json()).toMatchObject({
        error: { code: "origin_not_allowed", message: expect.stringContaining(page) },
      });
    }
    const ws = (page: string) =>
      new Promise<string>((done) => {
        const socket = new WebSocket(
          `${dev?.baseUrl.replace("http", "ws")}/agents/assistant/${session}/ws`,
          // undici (Node's WebSocket) takes headers, as a browser sends Origin.
          { headers: { origin: page } } as never,
        );
        socket.onopen = () => {
          socket.close();
          done("open");
        };
        socket.onerror = () => done("refused");
      });
    expect(await ws("https://evil.example")).toBe("refused");
    expect(await ws(otherPort)).toBe("refused");
    // The Worker's own pages (the inspector it serves) are its origin, as wrangler dev's
    // request.url names it.
    expect(await ws(dev.baseUrl)).toBe("open");
    expect(await ws(dev.baseUrl.replace("127.0.0.1", "localhost"))).toBe("refused");
    // Nor to a machine on the network: wrangler dev names the socket's peer in CF-Connecting-IP
    // (here 127.0.0.1: the CLI above got in). A peer that is not loopback, as one on the LAN
    // is under `--ip 0.0.0.0` whatever Host it sends, is refused (the header as wrangler dev
    // passes it on; tests bind 127.0.0.1 only, so the peer's header is sent by hand).
    const fromLan = await fetch(`${dev.baseUrl}/agents/assistant/${session}/status`, {
      headers: { "cf-connecting-ip": "192.0.2.7", host: "localhost" },
    });
    expect(fromLan.status).toBe(500);
    expect(await fromLan.json()).toMatchObject({
      error: { code: "auth_not_configured", message: expect.stringContaining("192.0.2.7") },
    });
    // From this machine under a name that is not loopback (a Host set by hand, a tunnel that
    // forwards its public name): refused as the caller's mistake, a 403 that says what to do.
    // (fetch drops a `host` header, a forbidden header name in the Fetch spec: node:http sends it.)
    const misdirected = await getWithHost(
      `${dev.baseUrl}/agents/assistant/${session}/status`,
      "example.com",
    );
    expect(misdirected.status).toBe(403);
    expect(JSON.parse(misdirected.body)).toMatchObject({
      error: { code: "host_not_local", message: expect.stringContaining('"example.com"') },
    });
  });

  it("requests refused before their body is read get a 4xx and leave no uncaught exception in the server log", async () => {
    dev = await startQuickstart(newState("e2e-refused"));
    const base = dev.baseUrl;
    await fetch(`${base}/v1/stream/refused`, { method: "PUT" });
    const refused: [string, string, Record<string, string>][] = [
      ["POST", "/agents/assistant/refused/status", {}],
      ["DELETE", "/agents/assistant/refused/runs", {}],
      ["POST", "/agents/assistant/refused/no-such-action", {}],
      ["DELETE", "/v1/stream/never-created", { "content-type": "text/plain" }],
      ["POST", "/v1/stream/refused", { "producer-id": "p", "producer-epoch": "x" }],
      ["PUT", "/v1/stream/refused", { "stream-ttl": "soon" }],
    ];
    for (const [method, path, headers] of refused) {
      const response = await fetch(`${base}${path}`, { method, headers, body: "x".repeat(2048) });
      await response.arrayBuffer();
      expect(response.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(response.status, `${method} ${path}`).toBeLessThan(500);
    }
    const oversized: [string, string, number][] = [
      ["/agents/assistant/refused/runs", "application/json", 2 * 1024 * 1024],
      ["/v1/stream/refused", "text/plain", 9 * 1024 * 1024],
    ];
    for (const [path, type, bytes] of oversized) {
      const response = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": type },
        body: "x".repeat(bytes),
      });
      expect(response.status, path).toBe(413);
      expect(await response.json()).toMatchObject({ error: { code: "payload_too_large" } });
    }
    await new Promise((settle) => setTimeout(settle, 500));
    expect(dev.logs()).not.toContain("Can't read from request stream");
    expect(dev.logs()).not.toContain("uncaught exception");
  });

  it("with AUTH_SECRET set, the Worker's own checks hold over real HTTP: stream auth, GET bodies, bad percent-encoding", async () => {
    const secret = "e2e-only-secret-0123456789abcdef0123456789";
    dev = await startQuickstart(newState("e2e-door"), { AUTH_SECRET: secret });
    const base = dev.baseUrl;

    // One rule at every door: without a token, the same 401 at each route.
    const unauthenticated: [string, string][] = [
      ["GET", "/agents/assistant/s1/status"],
      ["GET", "/sessions"],
      ["GET", "/usage"],
      ["POST", "/mcp/assistant"],
      ["PUT", "/v1/stream/e2e-door"],
    ];
    for (const [method, path] of unauthenticated) {
      const response = await fetch(`${base}${path}`, { method });
      expect([path, response.status], path).toEqual([path, 401]);
      expect(await response.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
    // /v1/stream/* is behind the same door as the sessions.
    const stream = `${base}/v1/stream/e2e-door`;
    const put = { method: "PUT", headers: { "content-type": "text/plain" }, body: "hi" };
    expect((await fetch(stream, put)).status).toBe(401);
    expect((await fetch(`${stream}?token=garbage`, put)).status).toBe(401);
    expect((await fetch(`${base}/v1/stream/__ds/jwks.json`)).status).toBe(401);
    const token = await mintStreamToken(secret, { prefix: "e2e-door" });
    const authed = (init: RequestInit = {}) => ({
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
    });
    expect((await fetch(stream, authed(put))).status).toBe(201);
    expect(await (await fetch(`${stream}?offset=-1`, authed())).text()).toBe("hi");
    expect((await fetch(`${base}/v1/stream/elsewhere`, authed(put))).status).toBe(403);

    // A GET or HEAD with a body is a 400, not a 500 (fetch cannot send one: raw HTTP); told
    // only to a caller the rule lets in (authorization first), the rest get the 401.
    const s1 = await mintSessionToken(secret, { agent: "assistant", session: "s1" });
    for (const method of ["GET", "HEAD"]) {
      const status = `${base}/agents/assistant/s1/status`;
      expect((await rawRequest(status, method, "x")).status, method).toBe(401);
      const response = await rawRequest(`${status}?token=${s1}`, method, "x");
      expect(response.status, method).toBe(400);
      if (method === "GET") expect(response.body).toContain("body_not_allowed");
    }
    // The same on a stream: the body is never half-read into a 500.
    for (const method of ["GET", "HEAD"]) {
      const response = await rawRequest(`${stream}?token=${token}`, method, "x");
      expect(response.status, `stream ${method}`).toBeLessThan(500);
    }
    // Malformed percent-encoding in an id is a 400 naming the problem, to a caller with a token
    // of the path's agent (authorization first: the rest get the 401); an agent name that is
    // malformed is no agent a token names, so it is refused, never a 500.
    for (const [path, agent] of [
      ["/agents/assistant/%E0/status", "assistant"],
      ["/agents/a/%zz/status", "a"],
    ] as const) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(401);
      const agentToken = await mintSessionToken(secret, { agent, session: "s1" });
      const response = await fetch(`${base}${path}?token=${agentToken}`);
      expect(response.status, path).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_path" } });
    }
    expect((await fetch(`${base}/agents/%ff/x/status?token=${s1}`)).status).toBe(403);
    await new Promise((settle) => setTimeout(settle, 300));
    expect(dev.logs()).not.toContain('"code":"internal"');
    expect(dev.logs()).not.toContain("uncaught exception");
  });

  it("a run survives SIGKILL of wrangler dev mid-answer: gap-free ledger, the note saved once", async () => {
    const state = newState("e2e-crash");
    const slow = { SCRIPTED_DELAY_MS: "250" };
    const session = "crash-1";
    dev = await startQuickstart(state, slow);
    await startRun(dev.baseUrl, session, "remember the crash test note");

    // The note is committed with the tool's result; kill while the answer streams.
    await waitForLedger(dev.baseUrl, session, (events) =>
      events.some((e) => e.kind === "model.delta" && e.data.step === 2),
    );
    await dev.kill();
    dev = undefined;

    dev = await startQuickstart(state, slow);
    const events = await waitForLedger(dev.baseUrl, session, (all) => all.some(isTerminal));

    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(events.at(-1)?.data.output).toBe("Noted. This session now has 1 note(s).");
    const notesCalls = events.filter((e) => e.kind === "tool.completed" && e.data.name === "notes");
    expect(notesCalls).toHaveLength(1);
    // The kill hit the answer's model call: it was redriven as a second attempt.
    expect(
      events.some((e) => e.kind === "step.started" && e.data.step === 2 && e.data.attempt === 2),
    ).toBe(true);

    // The transcript is the fault-free one: the lost attempt's partial text is not in it.
    const { messages } = await getJson<{
      messages: { role: string; parts: { type: string; text?: string }[] }[];
    }>(`${dev.baseUrl}/agents/assistant/${session}/messages`);
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(messages[3]?.parts).toEqual([
      { type: "text", text: "Noted. This session now has 1 note(s)." },
    ]);

    // The row itself, read back through the notes tool: exactly one.
    const list = await runCli([
      "chat",
      "show my notes",
      "--session",
      session,
      "--url",
      dev.baseUrl,
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("Your notes: the crash test note.");

    const after = await readLedger(dev.baseUrl, session);
    expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => i + 1));
  });
});

/** One HTTP request as sent, body and all (fetch refuses a GET or HEAD with a body). */
function rawRequest(
  url: string,
  method: string,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method, headers: { "content-type": "text/plain", "content-length": String(body.length) } },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** A GET with the `Host` header set by hand, as `curl -H 'Host: ...'` sends it. */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers: { host } }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.on("error", reject);
    request.end();
  });
}
