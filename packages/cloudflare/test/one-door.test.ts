import { env, SELF } from "cloudflare:test";
import { type CommandName, mintSessionToken } from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import { commandLog, hookLog } from "./fixture/platform.ts";
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

const FAR_FUTURE = Date.parse("2100-01-01T00:00:00Z");

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
    input: (s, p) => ({ checkpoint: p.checkpoint, session: `${s.session}-f` }),
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
  return { status: response.status, result: normalized(await response.json()) };
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
  return { status: frame.status as number, result: normalized(frame.result) };
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
