import { env, SELF } from "cloudflare:test";
import {
  bodyLimit,
  type CommandName,
  mintIndexToken,
  mintSessionToken,
  mintStreamToken,
  sessionRoutes,
  silentLogger,
} from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import { d1Index } from "../src/d1/index.ts";
import { allowLocalDev, DEV_AUTH_SECRET, type RouterOptions, routeRequest } from "../src/index.ts";
import { serveAgentMcp } from "../src/mcp/index.ts";
import { LocalDevSession, localDevRule } from "./fixture/local-dev.ts";
import { commandLog, hookLog } from "./fixture/platform.ts";
import { migrateIndexDb } from "./support/index-db.ts";
import {
  isTerminal,
  normalized,
  type SessionHandle,
  session,
  transcript,
} from "./support/session.ts";

/**
 * One door (docs/guarantees.md, G11): every command over every transport, with every kind
 * of token, has the same outcome and runs the same hooks. A command's outcome is its
 * status and error code, or its status and result; the ledger after it is compared too.
 */

type Transport = "http" | "websocket";
type TokenKind = "none" | "read-only" | "wrong session" | "valid";
const TOKENS: readonly TokenKind[] = ["none", "wrong session", "read-only", "valid"];

interface Case {
  readonly command: CommandName;
  readonly agent: string;
  readonly method: "POST" | "PUT" | "DELETE";
  readonly action: string;
  /** Puts the session where the command can succeed; returns what its input needs. */
  readonly prepare?: (s: SessionHandle) => Promise<Record<string, unknown>>;
  readonly input: (s: SessionHandle, prepared: Record<string, unknown>) => Record<string, unknown>;
}

/** A schedule time that never comes during the test, within the 10 years a schedule may be ahead. */
const FAR_FUTURE = Date.now() + 5 * 365 * 24 * 3600_000;

async function waiting(s: SessionHandle) {
  await s.post("runs", { input: { message: "pay" } });
  await s.waitFor((e) => e.kind === "run.waiting");
  const calls = (await s.events())
    .filter((e) => e.kind === "approval.requested")
    .map((e) => (e.data as { callId: string }).callId);
  return { calls };
}

async function completed(s: SessionHandle) {
  await s.post("runs", { input: { message: "talk" } });
  await s.waitFor(isTerminal);
  const page = (await (await s.get("checkpoints")).json()) as { checkpoints: { id: string }[] };
  return { checkpoint: page.checkpoints.at(-1)?.id };
}

const CASES: readonly Case[] = [
  {
    command: "start",
    agent: "chatty",
    method: "POST",
    action: "runs",
    input: () => ({ input: { message: "hi" } }),
  },
  {
    command: "interrupt",
    agent: "approver",
    method: "POST",
    action: "interrupt",
    prepare: waiting,
    input: () => ({ reason: "stop" }),
  },
  {
    command: "abort",
    agent: "approver",
    method: "POST",
    action: "abort",
    prepare: waiting,
    input: () => ({}),
  },
  {
    command: "resume",
    agent: "approver",
    method: "POST",
    action: "resume",
    prepare: waiting,
    input: (_s, p) => ({
      approvals: (p.calls as string[]).map((callId) => ({ callId, approved: false, reason: "no" })),
    }),
  },
  // A completed run cannot be retried: the runtime's refusal, the same on both transports.
  {
    command: "retry",
    agent: "chatty",
    method: "POST",
    action: "retry",
    prepare: completed,
    input: () => ({}),
  },
  {
    command: "close",
    agent: "chatty",
    method: "POST",
    action: "close",
    input: () => ({ reason: "done" }),
  },
  {
    command: "fork",
    agent: "chatty",
    method: "POST",
    action: "fork",
    prepare: completed,
    // Into a new session the server names: a token for the source may (a named target needs
    // authority over it too: below).
    input: (_s, p) => ({ checkpoint: p.checkpoint }),
  },
  {
    command: "state.set",
    agent: "chatty",
    method: "PUT",
    action: "state",
    input: () => ({ state: { n: 1 }, expectedVersion: 0 }),
  },
  {
    command: "schedule.create",
    agent: "chatty",
    method: "POST",
    action: "schedules",
    input: () => ({ kind: "kick", key: "k1", at: FAR_FUTURE }),
  },
  {
    command: "schedule.cancel",
    agent: "chatty",
    method: "DELETE",
    action: "schedules",
    prepare: async (s) => {
      await s.post("schedules", { kind: "kick", key: "k1", at: FAR_FUTURE });
      return {};
    },
    input: () => ({ key: "k1" }),
  },
  {
    command: "usage.record",
    agent: "chatty",
    method: "POST",
    action: "usage",
    input: () => ({ metric: "m", value: 2 }),
  },
];

let sessions = 0;

/** A session with a name that normalizes like the others (`s<ms>_<n>`). */
function fresh(agent: string): SessionHandle {
  return session(agent, `s${Date.now()}_${9000 + ++sessions}`);
}

async function tokenFor(kind: TokenKind, s: SessionHandle): Promise<string | undefined> {
  const base = { agent: s.agent, session: s.session };
  if (kind === "none") return undefined;
  if (kind === "read-only") return mintSessionToken(env.AUTH_SECRET, { ...base, scope: ["read"] });
  if (kind === "wrong session")
    return mintSessionToken(env.AUTH_SECRET, { ...base, session: `${s.session}-other` });
  return mintSessionToken(env.AUTH_SECRET, base);
}

/** What a caller learns: a status and an error code, or a status and a result. */
interface Outcome {
  readonly status: number;
  readonly code?: string;
  readonly result?: unknown;
}

async function errorCode(response: Response): Promise<string | undefined> {
  const body = (await response.json().catch(() => null)) as { error?: { code?: string } } | null;
  return body?.error?.code;
}

async function overHttp(
  c: Case,
  s: SessionHandle,
  token: string | undefined,
  input: Record<string, unknown>,
) {
  const headers = new Headers();
  if (token) headers.set("authorization", `Bearer ${token}`);
  let url = s.url(c.action);
  let body: string | undefined;
  if (c.method === "DELETE")
    url = s.url(c.action, new URLSearchParams(input as Record<string, string>).toString());
  else {
    headers.set("content-type", "application/json");
    body = JSON.stringify(input);
  }
  const response = await SELF.fetch(url, { method: c.method, headers, body });
  if (!response.ok) return { status: response.status, code: await errorCode(response) };
  return { status: response.status, result: forkNamed(normalized(await response.json())) };
}

async function overSocket(
  command: string,
  s: SessionHandle,
  token: string | undefined,
  input: Record<string, unknown>,
) {
  const headers = new Headers({ upgrade: "websocket" });
  if (token) headers.set("authorization", `Bearer ${token}`);
  const response = await SELF.fetch(s.url("ws", "offset=now"), { headers });
  const ws = response.webSocket;
  if (!ws) return { status: response.status, code: await errorCode(response) };
  ws.accept();
  const answer = new Promise<Record<string, unknown>>((resolve) => {
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as Record<string, unknown>;
      if (frame.type === "result" && frame.id === "cmd") resolve(frame);
    });
  });
  ws.send(JSON.stringify({ ...input, type: command, id: "cmd" }));
  const frame = await answer;
  ws.close(1000);
  if (frame.ok !== true) {
    const error = frame.error as { status: number; code: string };
    return { status: error.status, code: error.code };
  }
  return { status: frame.status as number, result: forkNamed(normalized(frame.result)) };
}

/** A result without the random part of a session id the server picked for a fork. */
function forkNamed<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replace(/-fork-[0-9a-f]{8}\b/g, "-fork-ID"));
}

function send(
  c: Case,
  transport: Transport,
  s: SessionHandle,
  token: string | undefined,
  input: Record<string, unknown>,
): Promise<Outcome> {
  return transport === "http"
    ? overHttp(c, s, token, input)
    : overSocket(c.command, s, token, input);
}

/** The ledger once no run is moving, without run ids and session names. */
async function settled(s: SessionHandle): Promise<unknown[]> {
  for (let i = 0; i < 200 && (await s.status()).status === "running"; i++)
    await new Promise((r) => setTimeout(r, 20));
  return transcript(await s.events());
}

interface Trial {
  readonly outcomes: Record<TokenKind, Outcome>;
  readonly refusedChanged: boolean;
  readonly ledger: unknown[];
  readonly hooks: string[];
}

async function trial(c: Case, transport: Transport): Promise<Trial> {
  const s = fresh(c.agent);
  const prepared = (await c.prepare?.(s)) ?? {};
  const before = await s.events();
  commandLog.length = 0;
  hookLog.length = 0;
  const outcomes = {} as Record<TokenKind, Outcome>;
  let refusedChanged = false;
  for (const kind of TOKENS) {
    outcomes[kind] = await send(c, transport, s, await tokenFor(kind, s), c.input(s, prepared));
    if (kind !== "valid") refusedChanged ||= (await s.events()).length !== before.length;
  }
  const ledger = await settled(s);
  const mine = (line: string) => line.includes(`:${s.session}`) && !line.startsWith("onComplete");
  const hooks = [...commandLog, ...hookLog]
    .filter(mine)
    .map((line) => line.replace(s.session, "SESSION").replace(`:${transport}:`, ":T:"))
    .sort();
  return { outcomes, refusedChanged, ledger, hooks };
}

afterEach(() => {
  commandLog.length = 0;
  hookLog.length = 0;
});

describe("one door: every command has the same scopes, hooks and outcome on HTTP and the WebSocket", () => {
  for (const c of CASES) {
    it(`${c.command}: none, wrong session, read-only, valid`, { timeout: 60_000 }, async () => {
      const http = await trial(c, "http");
      const socket = await trial(c, "websocket");
      expect(socket.outcomes).toEqual(http.outcomes);
      expect(http.outcomes.none).toEqual({ status: 401, code: "unauthorized" });
      expect(http.outcomes["wrong session"]).toEqual({ status: 403, code: "wrong_session" });
      expect(http.outcomes["read-only"]).toEqual({ status: 403, code: "missing_scope" });
      if (c.command !== "retry") expect(http.outcomes.valid.status).toBeLessThan(300);
      expect(http.refusedChanged).toBe(false);
      expect(socket.refusedChanged).toBe(false);
      expect(socket.ledger).toEqual(http.ledger);
      // The same hooks fired, once each, and only for the valid token.
      expect(socket.hooks).toEqual(http.hooks);
      expect(http.hooks).toContain(`before:${c.command}:T:SESSION`);
    });
  }
});

describe("a read-only token can start nothing, over any transport", () => {
  it("POST runs, AG-UI and UI-stream starts, stop, and a start frame are all refused", async () => {
    const s = fresh("chatty");
    const token = await tokenFor("read-only", s);
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const attempts = [
      { action: "runs", body: { input: { message: "hi" } } },
      {
        action: "agui",
        body: {
          threadId: s.session,
          runId: "r1",
          state: {},
          messages: [{ id: "u1", role: "user", content: "hi" }],
          tools: [],
          context: [],
          forwardedProps: {},
        },
      },
      {
        action: "ui-stream",
        body: { messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "hi" }] }] },
      },
      { action: "stop", body: {} },
    ];
    for (const { action, body } of attempts) {
      const response = await SELF.fetch(s.url(action), {
        method: "POST",
        headers,
        body: JSON.stringify(body),
      });
      expect([action, response.status, await errorCode(response)]).toEqual([
        action,
        403,
        "missing_scope",
      ]);
    }
    expect(await overSocket("start", s, token, { input: { message: "hi" } })).toEqual({
      status: 403,
      code: "missing_scope",
    });
    expect(await s.events()).toEqual([]);
  });
});

describe("hooks refuse alike on every transport", () => {
  it("a message beforeStart refuses with 422 over HTTP is refused over the socket too", async () => {
    for (const transport of ["http", "websocket"] as const) {
      const s = fresh("chatty");
      const outcome = await send(CASES[0]!, transport, s, await tokenFor("valid", s), {
        input: { message: "forbidden words" },
      });
      expect([transport, outcome]).toEqual([transport, { status: 422, code: "blocked_by_hook" }]);
      expect(await s.events()).toEqual([]);
    }
  });

  it("a beforeCommand hook that throws refuses with its error on both", async () => {
    const usage = CASES.find((c) => c.command === "usage.record")!;
    for (const transport of ["http", "websocket"] as const) {
      const s = fresh("chatty");
      const outcome = await send(usage, transport, s, await tokenFor("valid", s), {
        metric: "blocked",
        value: 1,
      });
      expect([transport, outcome]).toEqual([transport, { status: 403, code: "blocked_by_hook" }]);
      expect(await s.events()).toEqual([]);
    }
  });
});

describe("projection.rebuild needs the admin scope its declaration names, on every transport", () => {
  it("a read/write token is refused alike over HTTP and the WebSocket; an admin token rebuilds on both", async () => {
    const s = fresh("noter");
    const rebuild: Case = {
      command: "projection.rebuild",
      agent: "noter",
      method: "POST",
      action: "projections",
      input: () => ({ rebuild: "note_stats" }),
    };
    const input = { rebuild: "note_stats" };
    const readWrite = await tokenFor("valid", s);
    const refused = { status: 403, code: "missing_scope" };
    expect(await overHttp(rebuild, s, readWrite, input)).toEqual(refused);
    expect(await overSocket("projection.rebuild", s, readWrite, input)).toEqual(refused);
    const admin = await mintSessionToken(env.AUTH_SECRET, {
      agent: s.agent,
      session: s.session,
      scope: ["read", "write", "admin"],
    });
    const current = { name: "note_stats", version: 1, storedVersion: 1, status: "current" };
    expect(await overHttp(rebuild, s, admin, input)).toEqual({ status: 200, result: current });
    expect(await overSocket("projection.rebuild", s, admin, input)).toEqual({
      status: 200,
      result: current,
    });
    expect(commandLog.filter((line) => line.includes(s.session))).toEqual([
      `before:projection.rebuild:http:${s.session}`,
      `after:projection.rebuild:http:${s.session}`,
      `before:projection.rebuild:websocket:${s.session}`,
      `after:projection.rebuild:websocket:${s.session}`,
    ]);
  });
});

describe("a fork writes its target: authority over the target, on every transport", () => {
  it("a token for the source alone is refused into a named session alike over HTTP and the WebSocket, before any hook, and the target stays empty", async () => {
    const fork = CASES.find((c) => c.command === "fork")!;
    const s = fresh("chatty");
    const { checkpoint } = await completed(s);
    const before = await s.events();
    const token = await tokenFor("valid", s);
    commandLog.length = 0;
    for (const transport of ["http", "websocket"] as const) {
      const target = fresh("chatty");
      const outcome = await send(fork, transport, s, token, {
        checkpoint,
        session: target.session,
      });
      expect([transport, outcome]).toEqual([transport, { status: 403, code: "wrong_session" }]);
      expect(await target.events()).toEqual([]);
    }
    expect(await s.events()).toEqual(before);
    expect(commandLog.filter((line) => line.includes(s.session))).toEqual([]);
  });
});

/**
 * One rule for every door: the Worker's own routes (the index, `/v1/stream/*`, `/mcp/:agent`)
 * and the session object's (HTTP and the WebSocket) apply the `authorize` the server was
 * created with, declared once (`routeRequest(..., { server })`, as the README's Worker does).
 */
describe("one rule, declared once, at every door of the Worker", () => {
  let doorCount = 0;

  /** One unauthenticated request at each door, to `origin`. */
  function doors(origin: string): Record<string, () => Request> {
    const n = ++doorCount;
    const session = `${origin}/agents/chatty/door${Date.now()}_${n}`;
    return {
      "session HTTP": () => new Request(`${session}/status`),
      "session WebSocket": () =>
        new Request(`${session}/ws?offset=now`, { headers: { upgrade: "websocket" } }),
      "index /sessions": () => new Request(`${origin}/sessions`),
      "index /usage": () => new Request(`${origin}/usage`),
      "/v1/stream": () =>
        new Request(`${origin}/v1/stream/door-${Date.now()}-${n}`, {
          method: "PUT",
          headers: { "content-type": "text/plain" },
          body: "hi",
        }),
      MCP: () =>
        new Request(`${origin}/mcp/chatty`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
          },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "initialize",
            params: {
              protocolVersion: "2025-06-18",
              capabilities: {},
              clientInfo: { name: "door-test", version: "0" },
            },
          }),
        }),
    };
  }

  /** Each door's answer: its status, and the error code when refused. */
  async function answers(
    fetch: (request: Request) => Promise<Response>,
    origin: string,
    /** The `Origin` a browser sends: the page that made the request. */
    page?: string,
  ): Promise<Record<string, Outcome>> {
    const out: Record<string, Outcome> = {};
    for (const [door, request] of Object.entries(doors(origin))) {
      const headers = new Headers(request().headers);
      if (page !== undefined) headers.set("origin", page);
      const response = await fetch(new Request(request(), { headers }));
      response.webSocket?.accept();
      response.webSocket?.close(1000);
      out[door] =
        response.status < 400
          ? { status: response.status }
          : { status: response.status, code: await errorCode(response) };
    }
    return out;
  }

  /** A Worker built like the README's, on the local-dev server (bound as LOCAL_DEV). */
  function localDevWorker(extra: Partial<RouterOptions> = {}) {
    return (request: Request) =>
      routeRequest(request, { ...env, AGENTS: env.LOCAL_DEV }, undefined, {
        server: LocalDevSession,
        mcp: { serve: serveAgentMcp },
        ...extra,
      });
  }

  it("tokens required (no rule declared): every door refuses the same request with the same 401", async () => {
    const outcomes = await answers((request) => SELF.fetch(request), "http://agents.test");
    const refused = { status: 401, code: "unauthorized" };
    expect(outcomes).toEqual({
      "session HTTP": refused,
      "session WebSocket": refused,
      "index /sessions": refused,
      "index /usage": refused,
      "/v1/stream": refused,
      MCP: refused,
    });
  });

  it("a local-dev rule given only to createAgentServer: on 127.0.0.1 the Worker's routes accept what the session routes accept", async () => {
    await migrateIndexDb();
    const outcomes = await answers(localDevWorker(), "http://127.0.0.1:8787");
    expect(outcomes).toEqual({
      "session HTTP": { status: 200 },
      "session WebSocket": { status: 101 },
      "index /sessions": { status: 200 },
      "index /usage": { status: 200 },
      "/v1/stream": { status: 201 },
      MCP: { status: 200 },
    });
  });

  it("the same local-dev Worker on a public host: every door gives the same refusal", async () => {
    const outcomes = await answers(localDevWorker(), "https://agents.example.com");
    const refused = { status: 500, code: "auth_not_configured" };
    expect(Object.values(outcomes)).toEqual(Object.values(outcomes).map(() => refused));
  });

  it("a page in the developer's browser is local dev only if it is the Worker's own (its origin) or one the app listed: every door refuses any other page's request to 127.0.0.1 with 403 (a cross-site POST, a WebSocket, a page on another loopback port)", async () => {
    await migrateIndexDb();
    const local = "http://127.0.0.1:8787";
    const worker = localDevWorker({ logger: silentLogger });
    const refused = { status: 403, code: "origin_not_allowed" };
    for (const page of [
      "https://evil.example",
      "null",
      "http://127.0.0.1.evil.example",
      // Any other dev server on this machine (python3 -m http.server 8797, a docs server).
      "http://127.0.0.1:8797",
      "http://localhost:8797",
      // The same port under another name or scheme is another origin (Fetch spec).
      "http://localhost:8787",
      "https://127.0.0.1:8787",
      "http://[::1]:8787",
      // A listed origin's port only.
      "http://localhost:5174",
    ]) {
      const outcomes = await answers(worker, local, page);
      expect([page, outcomes]).toEqual([page, mapValues(outcomes, () => refused)]);
    }
    // The page the Worker serves itself (the quickstart's inspector, the chat app's assets),
    // and the one the rule lists (allowLocalDev({ origins: ["http://localhost:5173"] }), a Vite
    // dev server's), are let in as the CLI is (no Origin: the test above).
    for (const page of [local, "http://localhost:5173"]) {
      const outcomes = await answers(worker, local, page);
      expect([page, outcomes]).toEqual([page, await answers(worker, local)]);
    }
    // The request's own origin as it names itself: localhost, another port.
    const own = "http://localhost:8797";
    expect(await answers(worker, own, own)).toEqual(await answers(worker, own));
    // The refusal names the page and the two ways to let it in.
    const response = await worker(
      new Request(`${local}/sessions`, { headers: { origin: "http://127.0.0.1:8797" } }),
    );
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message).toContain("http://127.0.0.1:8797");
    expect(error.message).toContain("allowLocalDev({ origins:");
    expect(error.message).toContain("AUTH_SECRET");
  });

  it("a refused page is a caller refused, not a server error: nothing is logged as an error, however often it asks", async () => {
    const logged: string[] = [];
    const logger = {
      ...silentLogger,
      warn: (message: string) => void logged.push(`warn: ${message}`),
      error: (message: string) => void logged.push(`error: ${message}`),
    };
    const worker = localDevWorker({ logger });
    for (let i = 0; i < 3; i++)
      for (const page of ["http://127.0.0.1:8797", "https://evil.example"]) {
        const outcomes = await answers(worker, "http://127.0.0.1:8787", page);
        expect(new Set(Object.values(outcomes).map(({ status }) => status))).toEqual(
          new Set([403]),
        );
      }
    expect(logged.filter((line) => line.startsWith("error:"))).toEqual([]);
  });

  it("a request that came over the network is not local dev, whatever its Host says: wrangler dev's CF-Connecting-IP (the peer's address) must be a loopback one", async () => {
    await migrateIndexDb();
    const local = "http://127.0.0.1:8787";
    const worker = localDevWorker({ logger: silentLogger });
    // wrangler dev --ip 0.0.0.0 sets CF-Connecting-IP to the socket's peer when the client sent
    // none (miniflare's entry worker): a machine on the network that sends `Host: localhost`.
    const fromPeer = (ip: string) => (request: Request) => {
      const headers = new Headers(request.headers);
      headers.set("cf-connecting-ip", ip);
      return worker(new Request(request, { headers }));
    };
    const refused = { status: 500, code: "auth_not_configured" };
    for (const ip of ["192.0.2.7", "10.0.0.2", "fd00::2", "::ffff:192.0.2.7"]) {
      const outcomes = await answers(fromPeer(ip), local);
      expect([ip, outcomes]).toEqual([ip, mapValues(outcomes, () => refused)]);
    }
    for (const ip of ["127.0.0.1", "127.0.1.1", "::1", "::ffff:127.0.0.1"]) {
      const outcomes = await answers(fromPeer(ip), local);
      expect([ip, outcomes]).toEqual([ip, await answers(worker, local)]);
    }
    const response = await fromPeer("192.0.2.7")(new Request(`${local}/sessions`));
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message).toContain("192.0.2.7");
  });

  it("local dev asked under a name that is not loopback, over loopback (a spoofed Host, a tunnel on this machine): every door refuses with 403 host_not_local, which says what to do; a deployed Worker without a secret still fails with 500 auth_not_configured", async () => {
    const logged: string[] = [];
    const logger = {
      ...silentLogger,
      error: (message: string) => void logged.push(`error: ${message}`),
    };
    const worker = localDevWorker({ logger });
    // wrangler dev sets CF-Connecting-IP to the socket's peer: 127.0.0.1 for a client on this
    // machine, whatever Host it sent (curl -H 'Host: example.com', a tunnel's forwarded Host).
    const overLoopback = (ip: string) => (request: Request) => {
      const headers = new Headers(request.headers);
      headers.set("cf-connecting-ip", ip);
      return worker(new Request(request, { headers }));
    };
    const misdirected = { status: 403, code: "host_not_local" };
    for (const ip of ["127.0.0.1", "::1"]) {
      const outcomes = await answers(overLoopback(ip), "http://example.com");
      expect([ip, outcomes]).toEqual([ip, mapValues(outcomes, () => misdirected)]);
    }
    const response = await overLoopback("127.0.0.1")(new Request("http://example.com/sessions"));
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message).toContain('"example.com"');
    expect(error.message).toContain("http://127.0.0.1:8787");
    expect(error.message).toContain("AUTH_SECRET");
    // The caller refused, not the server misconfigured: no error log.
    expect(logged).toEqual([]);
    // A deployed Worker: Cloudflare names the client's own address in CF-Connecting-IP.
    const refused = { status: 500, code: "auth_not_configured" };
    const deployed = await answers(overLoopback("203.0.113.9"), "https://agents.example.com");
    expect(deployed).toEqual(mapValues(deployed, () => refused));
  });

  it("without a rule and AUTH_SECRET, the public dev secret opens nothing to another site's page: a token minted with it is refused there", async () => {
    const devToken = await mintIndexToken(DEV_AUTH_SECRET);
    const noSecret = { ...env, AUTH_SECRET: undefined };
    const index = (page?: string) =>
      routeRequest(
        new Request(`http://127.0.0.1:8787/sessions?token=${devToken}`, {
          headers: page === undefined ? {} : { origin: page },
        }),
        noSecret,
        undefined,
        // What routeRequest reads of a server declared with no rule (signed tokens).
        { server: { agents: [], options: {} }, logger: silentLogger },
      );
    // From this machine's tools: the dev secret (no index here: 404 after the admin check).
    expect((await index()).status).toBe(404);
    const response = await index("https://evil.example");
    expect(response.status).toBe(403);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("origin_not_allowed");
    expect(error.message).toContain("https://evil.example");
    // Nor to a page on another loopback port.
    expect((await index("http://127.0.0.1:8797")).status).toBe(403);
    expect((await index("http://127.0.0.1:8787")).status).toBe(404);
  });

  it("the same rule also passed to routeRequest (the old form) changes nothing", async () => {
    await migrateIndexDb();
    const outcomes = await answers(
      localDevWorker({ authorize: localDevRule }),
      "http://127.0.0.1:8787",
    );
    expect(outcomes).toEqual(await answers(localDevWorker(), "http://127.0.0.1:8787"));
  });

  it("the older form, a rule given to createAgentServer only and routeRequest without `server`, is told once (rule_not_applied)", async () => {
    const warnings: { message: string; code: unknown }[] = [];
    const logger = {
      ...silentLogger,
      warn: (message: string, fields?: Record<string, unknown>) =>
        void warnings.push({ message, code: fields?.code }),
    };
    const oldForm = (options: Partial<RouterOptions>) =>
      routeRequest(new Request("http://127.0.0.1:8787/sessions"), env, undefined, {
        ...options,
        logger,
      });
    // The rule the local-dev server declared: nothing to say.
    await oldForm({ authorize: localDevRule });
    expect(warnings).toEqual([]);
    // Without it: the index route refuses what the local-dev sessions let in; said once.
    expect((await oldForm({})).status).toBe(401);
    await oldForm({});
    expect(warnings).toEqual([
      { message: expect.stringContaining("`server`"), code: "rule_not_applied" },
    ]);
  });

  it("another rule (or index) than the server's is refused on every request with 500 conflicting_options, naming the option", async () => {
    for (const [option, extra] of [
      ["authorize", { authorize: allowLocalDev() }],
      ["index", { index: d1Index() }],
      ["prices", { prices: { "*": { inputPerMillion: 1, outputPerMillion: 1 } } }],
    ] as const) {
      const worker = localDevWorker(extra as Partial<RouterOptions>);
      for (const request of Object.values(doors("http://127.0.0.1:8787"))) {
        const response = await worker(request());
        expect([option, response.status]).toEqual([option, 500]);
        const { error } = (await response.json()) as { error: { code: string; message: string } };
        expect(error.code).toBe("conflicting_options");
        expect(error.message).toContain(`\`${option}\``);
      }
    }
  });
});

/**
 * Authorization first: no door says anything about a request (its body, its query, whether its
 * agent or route exists, its session) to a caller the rule has not let in. Every built-in
 * session route (from core's route table, so a new one is checked without being listed here)
 * and every door of the Worker gets an unauthenticated request that is also wrong in another
 * way; each must be answered with the rule's refusal and nothing else.
 */
describe("authorization first: a refused caller hears only the refusal, at every door", () => {
  const NOT_JSON = "{not json";
  const JUNK_QUERY = "offset=%ZZ&limit=-1&after=nope&key=";
  let n = 0;

  function wrongRequests(origin: string): Record<string, () => Request> {
    const id = `first${Date.now()}_${++n}`;
    const s = `${origin}/agents/chatty/${id}`;
    const json = { "content-type": "application/json" };
    const doors: Record<string, () => Request> = {};
    for (const [action, methods] of Object.entries(sessionRoutes()))
      for (const method of methods)
        doors[`${method} .../${action}`] =
          method === "GET" || method === "HEAD"
            ? () => new Request(`${s}/${action}?${JUNK_QUERY}`, { method })
            : () =>
                new Request(`${s}/${action}?${JUNK_QUERY}`, {
                  method,
                  headers: json,
                  body: NOT_JSON,
                });
    const tooBig = (action: string) => "x".repeat(bodyLimit(action) + 1);
    return {
      ...doors,
      "POST .../runs, a body past its limit": () =>
        new Request(`${s}/runs`, { method: "POST", headers: json, body: tooBig("runs") }),
      "an unknown agent": () => new Request(`${origin}/agents/nosuch/${id}/status`),
      "an unknown session route": () => new Request(`${s}/nosuch`, { method: "POST", body: "{}" }),
      "WebSocket upgrade, a bad offset": () =>
        new Request(`${s}/ws?offset=nope`, { headers: { upgrade: "websocket" } }),
      "POST /chat/:agent, not JSON": () =>
        new Request(`${origin}/chat/chatty`, { method: "POST", headers: json, body: NOT_JSON }),
      "POST /chat/:agent, no chat id": () =>
        new Request(`${origin}/chat/chatty`, { method: "POST", headers: json, body: "{}" }),
      "POST /chat/:agent, a body past its limit": () =>
        new Request(`${origin}/chat/chatty`, {
          method: "POST",
          headers: json,
          body: tooBig("chat"),
        }),
      "POST /chat/:agent, an unknown agent": () =>
        new Request(`${origin}/chat/nosuch`, {
          method: "POST",
          headers: json,
          body: JSON.stringify({ id, messages: [] }),
        }),
      "POST /chat/:agent, a chat id that is no session id": () =>
        new Request(`${origin}/chat/chatty`, {
          method: "POST",
          headers: json,
          body: JSON.stringify({ id: "not a session id!", messages: [] }),
        }),
      "GET /chat/:agent/:id/stream": () => new Request(`${origin}/chat/chatty/${id}/stream`),
      "GET /chat/:agent/:id/stream, an id that is no session id": () =>
        new Request(`${origin}/chat/chatty/not%20an%20id!/stream`),
      "a session route, a session id that is no session id": () =>
        new Request(`${origin}/agents/chatty/not%20an%20id!/status`),
      "GET /sessions, a junk query": () => new Request(`${origin}/sessions?${JUNK_QUERY}`),
      "GET /usage, a junk query": () => new Request(`${origin}/usage?${JUNK_QUERY}`),
      "POST /v1/stream, not JSON": () =>
        new Request(`${origin}/v1/stream/${id}`, { method: "POST", headers: json, body: NOT_JSON }),
      "GET /v1/stream, a path with an empty segment": () =>
        new Request(`${origin}/v1/stream/${id}//x`),
      "PUT /v1/stream, a bad fork": () =>
        new Request(`${origin}/v1/stream/${id}`, {
          method: "PUT",
          headers: { "stream-forked-from": "%%%", "stream-fork-offset": "nope" },
        }),
      "POST /mcp/:agent, not JSON": () =>
        new Request(`${origin}/mcp/chatty`, {
          method: "POST",
          headers: { ...json, accept: "application/json, text/event-stream" },
          body: NOT_JSON,
        }),
      "POST /mcp/:agent, an unknown agent": () =>
        new Request(`${origin}/mcp/nosuch`, {
          method: "POST",
          headers: { ...json, accept: "application/json, text/event-stream" },
          body: NOT_JSON,
        }),
    };
  }

  async function refusals(fetch: (request: Request) => Promise<Response>, origin: string) {
    const out: Record<string, Outcome> = {};
    for (const [door, request] of Object.entries(wrongRequests(origin))) {
      const response = await fetch(request());
      response.webSocket?.accept();
      response.webSocket?.close(1000);
      // A HEAD answer carries no body over HTTP (RFC 9110 9.3.2): its status is its refusal,
      // and the same request as a GET says the code.
      const coded =
        request().method === "HEAD" && response.body === null
          ? await fetch(new Request(request(), { method: "GET" }))
          : response;
      out[door] = { status: response.status, code: await errorCode(coded) };
    }
    return out;
  }

  it("tokens required: every door answers 401 unauthorized, before reading the body, the query or the route", async () => {
    const outcomes = await refusals((request) => SELF.fetch(request), "http://agents.test");
    expect(outcomes).toEqual(mapValues(outcomes, () => ({ status: 401, code: "unauthorized" })));
  });

  it("a caller the rule lets in hears what is wrong: a chat body that names no session, with a token of that agent", async () => {
    const chat = (token: string, body: string) =>
      SELF.fetch("http://agents.test/chat/chatty", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
      });
    const mine = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session: "any" });
    const other = await mintSessionToken(env.AUTH_SECRET, { agent: "approver", session: "any" });
    const readOnly = await mintSessionToken(env.AUTH_SECRET, {
      agent: "chatty",
      session: "any",
      scope: ["read"],
    });
    const outcome = async (response: Response) => [response.status, await errorCode(response)];
    expect(await outcome(await chat(mine, NOT_JSON))).toEqual([400, "malformed_json"]);
    expect(await outcome(await chat(mine, "{}"))).toEqual([400, "invalid_request"]);
    expect(await outcome(await chat(other, NOT_JSON))).toEqual([403, "wrong_session"]);
    expect(await outcome(await chat(readOnly, NOT_JSON))).toEqual([403, "missing_scope"]);
    // A chat id, or a path's session id, that is no session id: the agent's token hears why.
    const badId = JSON.stringify({ id: "not a session id!", messages: [] });
    expect(await outcome(await chat(mine, badId))).toEqual([400, "invalid_path"]);
    expect(await outcome(await chat(other, badId))).toEqual([403, "wrong_session"]);
    const get = (path: string, token: string) =>
      SELF.fetch(`http://agents.test${path}`, { headers: { authorization: `Bearer ${token}` } });
    // A stream path that is none: a token for every stream hears so, a session token the refusal.
    const streams = await mintStreamToken(env.AUTH_SECRET, { prefix: "" });
    expect(await outcome(await get("/v1/stream/a//b", streams))).toEqual([
      400,
      "invalid_stream_path",
    ]);
    expect(await outcome(await get("/v1/stream/a//b", mine))).toEqual([403, "wrong_session"]);
    for (const path of [
      "/chat/chatty/not%20an%20id!/stream",
      "/agents/chatty/not%20an%20id!/status",
    ]) {
      expect(await outcome(await get(path, readOnly))).toEqual([400, "invalid_path"]);
      expect(await outcome(await get(path, other))).toEqual([403, "wrong_session"]);
    }
  });

  it("an app's rule that refuses (a local-dev rule on a public host): every door answers with its refusal", async () => {
    const worker = (request: Request) =>
      routeRequest(request, { ...env, AGENTS: env.LOCAL_DEV }, undefined, {
        server: LocalDevSession,
        mcp: { serve: serveAgentMcp },
        logger: silentLogger,
      });
    const outcomes = await refusals(worker, "https://agents.example.com");
    expect(outcomes).toEqual(
      mapValues(outcomes, () => ({ status: 500, code: "auth_not_configured" })),
    );
  });
});

function mapValues<T, U>(record: Record<string, T>, f: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value)]));
}

declare global {
  namespace Cloudflare {
    interface Env {
      LOCAL_DEV: DurableObjectNamespace;
    }
  }
}
