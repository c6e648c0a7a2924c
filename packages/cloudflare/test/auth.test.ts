import { env, SELF } from "cloudflare:test";
import { mintSessionToken, signClaims, silentLogger } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import {
  type AuthTarget,
  authorizeRequest,
  sessionAuthority,
  sessionTarget,
} from "../src/auth/authorize.ts";
import { MIN_SECRET_CHARS, resolveSecret } from "../src/auth/secret.ts";
import {
  type AuthDecision,
  AuthNotConfiguredError,
  allowLocalDev,
  DEV_AUTH_SECRET,
  verifyRequestToken,
} from "../src/index.ts";
import { BASE, session } from "./support/session.ts";

const secret = () => env.AUTH_SECRET;

async function call(path: string, token?: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  return SELF.fetch(`${BASE}${path}`, { ...init, headers });
}

async function expectDenied(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(20);
}

describe("session routes need a signed session token", () => {
  it("no token is a 401 with www-authenticate, and nothing changes", async () => {
    const s = session("probe");
    const response = await call(`/agents/probe/${s.session}/runs`, undefined, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "hi" } }),
    });
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
    await expectDenied(response, 401, "unauthorized");
    expect(await s.events()).toEqual([]);
  });

  it("a token signed with another secret is a 401", async () => {
    const s = session("probe");
    const token = await mintSessionToken("some-other-secret-0123456789abcdef", {
      agent: "probe",
      session: s.session,
    });
    await expectDenied(
      await call(`/agents/probe/${s.session}/status`, token),
      401,
      "invalid_token",
    );
    await expectDenied(
      await call(`/agents/probe/${s.session}/status`, "da1.garbage"),
      401,
      "invalid_token",
    );
  });

  it("an expired token is a 401", async () => {
    const s = session("probe");
    const token = await mintSessionToken(secret(), {
      agent: "probe",
      session: s.session,
      ttlSeconds: 60,
      now: Date.now() - 120_000,
    });
    await expectDenied(
      await call(`/agents/probe/${s.session}/status`, token),
      401,
      "token_expired",
    );
  });

  it("a token for another session is a 403: no cross-session access", async () => {
    const mine = session("probe");
    const other = session("probe");
    const token = await mintSessionToken(secret(), { agent: "probe", session: mine.session });
    await expectDenied(
      await call(`/agents/probe/${other.session}/status`, token),
      403,
      "wrong_session",
    );
    await expectDenied(
      await call(`/agents/chatty/${mine.session}/status`, token),
      403,
      "wrong_session",
    );
    await expectDenied(
      await call(`/agents/probe/${other.session}/runs`, token, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: { message: "hi" } }),
      }),
      403,
      "wrong_session",
    );
    expect(await other.events()).toEqual([]);
  });

  // Review finding: a fork writes the target session's ledger, but only the source's token was
  // checked: a token for one session could create (squat) any other empty session of the
  // agent, with its own conversation in it, though every other write to that session needs a
  // token naming it.
  it("a fork into another session needs authority over that session: a token for the source alone is a 403", async () => {
    const mine = session("probe");
    await mine.post("runs", { input: { message: "go" } });
    await mine.waitFor((e) => e.kind === "run.completed");
    const checkpoint = (
      (await (await mine.get("checkpoints")).json()) as { checkpoints: { id: string }[] }
    ).checkpoints[0]?.id;
    const other = session("probe");
    const token = await mintSessionToken(secret(), { agent: "probe", session: mine.session });
    await expectDenied(
      await call(`/agents/probe/${mine.session}/fork`, token, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ checkpoint, session: other.session }),
      }),
      403,
      "wrong_session",
    );
    expect(await other.events()).toEqual([]);
  });

  it("the fork's 403 says what to send, and a fork into a new session the server names needs only the source", async () => {
    const mine = session("probe");
    await mine.post("runs", { input: { message: "go" } });
    await mine.waitFor((e) => e.kind === "run.completed");
    const checkpoint = (
      (await (await mine.get("checkpoints")).json()) as { checkpoints: { id: string }[] }
    ).checkpoints[0]?.id;
    const token = await mintSessionToken(secret(), { agent: "probe", session: mine.session });
    const fork = (body: unknown) =>
      call(`/agents/probe/${mine.session}/fork`, token, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const refused = await fork({ checkpoint, session: `${mine.session}-x` });
    const { error } = (await refused.json()) as {
      error: { code: string; message: string; details: unknown };
    };
    expect(error.code).toBe("wrong_session");
    expect(error.message).toContain(`"probe/${mine.session}-x"`);
    expect(error.message).toContain('leave out "session"');
    expect(error.details).toEqual({
      source: `probe/${mine.session}`,
      target: `probe/${mine.session}-x`,
    });
    const forked = await fork({ checkpoint });
    expect(forked.status).toBe(201);
    const { session: named } = (await forked.json()) as { session: string };
    expect((await session("probe", named).events()).length).toBeGreaterThan(0);
  });

  it("an app's rule is asked about a fork's target with the same request: allowed, refused, or without write", async () => {
    const source = sessionTarget({ agent: "probe", session: "a", action: "fork" }, "POST");
    const asked: string[] = [];
    const rule = (_request: Request, _env: unknown, target: AuthTarget): AuthDecision => {
      asked.push(`${target.sub}:${target.scope}:${target.session}`);
      if (target.session === "c") return { user: "ada" };
      if (target.session === "d") return { scopes: ["read"] };
      return false;
    };
    const authority = sessionAuthority(new Request(`${BASE}/agents/probe/a/fork`), {}, source, {
      authorize: rule,
      logger: silentLogger,
    });
    await expect(authority("c", "write")).resolves.toBeUndefined();
    await expect(authority("b", "write")).rejects.toMatchObject({ status: 403, code: "forbidden" });
    await expect(authority("d", "write")).rejects.toMatchObject({
      status: 403,
      code: "missing_scope",
    });
    expect(asked).toEqual(["probe/c:write:c", "probe/b:write:b", "probe/d:write:d"]);
  });

  it("an app's rule that allows a fork's target only until a time past refuses it (401 token_expired), as for the source", async () => {
    const source = sessionTarget({ agent: "probe", session: "a", action: "fork" }, "POST");
    const rule = (_request: Request, _env: unknown, target: AuthTarget): AuthDecision =>
      target.session === "e"
        ? { expiresAt: Date.now() - 1000 }
        : { expiresAt: Date.now() + 60_000 };
    const authority = sessionAuthority(new Request(`${BASE}/agents/probe/a/fork`), {}, source, {
      authorize: rule,
      logger: silentLogger,
    });
    await expect(authority("f", "write")).resolves.toBeUndefined();
    await expect(authority("e", "write")).rejects.toMatchObject({
      status: 401,
      code: "token_expired",
    });
  });

  it("a read-only token cannot write", async () => {
    const s = session("probe");
    const token = await mintSessionToken(secret(), {
      agent: "probe",
      session: s.session,
      scope: ["read"],
    });
    expect((await call(`/agents/probe/${s.session}/status`, token)).status).toBe(200);
    await expectDenied(
      await call(`/agents/probe/${s.session}/runs`, token, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: { message: "hi" } }),
      }),
      403,
      "missing_scope",
    );
  });

  it("GET chat-history needs the read scope, as every GET: a write-only token gets 403", async () => {
    const s = session("probe");
    const mint = (scope: ("read" | "write")[]) =>
      mintSessionToken(secret(), { agent: "probe", session: s.session, scope });
    const history = `/agents/probe/${s.session}/chat-history`;
    expect((await call(history, await mint(["read"]))).status).toBe(200);
    await expectDenied(await call(history, await mint(["write"])), 403, "missing_scope");
    await expectDenied(await call(history, undefined), 401, "unauthorized");
  });

  it("an index token does not open a session", async () => {
    const s = session("probe");
    const token = await signClaims(secret(), {
      sub: "*",
      scope: ["admin", "read", "write"],
      exp: 9e9,
    });
    await expectDenied(
      await call(`/agents/probe/${s.session}/status`, token),
      403,
      "wrong_session",
    );
  });

  it("the token can also travel as ?token= (EventSource, WebSocket)", async () => {
    const s = session("probe");
    const token = await mintSessionToken(secret(), { agent: "probe", session: s.session });
    const response = await SELF.fetch(`${BASE}/agents/probe/${s.session}/status?token=${token}`);
    expect(response.status).toBe(200);
  });

  it("a valid token passes", async () => {
    const s = session("probe");
    expect((await s.get("status")).status).toBe(200);
  });
});

describe("the secret, local dev and the authorize hook", () => {
  const logs: string[] = [];
  const logger = {
    debug() {},
    info() {},
    warn: (m: string) => void logs.push(`warn:${m}`),
    error: (m: string) => void logs.push(`error:${m}`),
  };
  const local = () => new Request("http://127.0.0.1:8787/agents/a/s/status");
  const remote = () => new Request("https://agents.example.com/agents/a/s/status");
  const target = { sub: "a/s", scope: "read" as const };

  it("AUTH_SECRET is used when set; shorter than 32 characters is refused", () => {
    const secret = "x".repeat(MIN_SECRET_CHARS);
    expect(resolveSecret({ AUTH_SECRET: secret }, remote(), logger)).toBe(secret);
    expect(() => resolveSecret({ AUTH_SECRET: "short" }, remote(), logger)).toThrow(
      AuthNotConfiguredError,
    );
  });

  it("without a secret, loopback uses the dev secret and says so once; elsewhere it fails loudly", () => {
    logs.length = 0;
    expect(resolveSecret({}, local(), logger)).toBe(DEV_AUTH_SECRET);
    resolveSecret({}, local(), logger);
    expect(logs.filter((l) => l.startsWith("warn:")).length).toBeLessThanOrEqual(1);
    const error = (() => {
      try {
        resolveSecret({}, remote(), logger);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(AuthNotConfiguredError);
    expect(error).toMatchObject({ status: 500, code: "auth_not_configured" });
    expect(logs.some((l) => l.startsWith("error:"))).toBe(true);
    expect(() => resolveSecret({ AUTH_SECRET: DEV_AUTH_SECRET }, remote(), logger)).toThrow(
      /dev secret/,
    );
  });

  it("a dev token works on loopback only", async () => {
    const token = await mintSessionToken(DEV_AUTH_SECRET, { agent: "a", session: "s" });
    const withToken = (r: Request) =>
      new Request(r, { headers: { authorization: `Bearer ${token}` } });
    await expect(verifyRequestToken(withToken(local()), {}, target, logger)).resolves.toEqual({});
    await expect(verifyRequestToken(withToken(remote()), {}, target, logger)).rejects.toThrow(
      AuthNotConfiguredError,
    );
  });

  it("allowLocalDev opens loopback while AUTH_SECRET is unset, and nothing else", async () => {
    const authorize = allowLocalDev();
    expect(await authorize(local(), {}, target)).toBe(true);
    await expect(authorize(remote(), {}, target)).rejects.toThrow(AuthNotConfiguredError);
    await expect(authorize(local(), { AUTH_SECRET: "y".repeat(40) }, target)).rejects.toMatchObject(
      { status: 401 },
    );
  });

  it("a page is local dev only if it is the request's own origin or a listed one; any other is refused with 403, logged at most once as a warning", async () => {
    logs.length = 0;
    const from = (page: string) =>
      new Request("http://127.0.0.1:8787/agents/a/s/status", { headers: { origin: page } });
    const authorize = allowLocalDev({ origins: ["http://localhost:5173/"] });
    expect(await authorize(from("http://127.0.0.1:8787"), {}, target)).toBe(true);
    expect(await authorize(from("http://localhost:5173"), {}, target)).toBe(true);
    for (const page of ["http://127.0.0.1:8797", "http://localhost:8787", "null", "x"])
      await expect(authorize(from(page), {}, target)).rejects.toMatchObject({
        status: 403,
        code: "origin_not_allowed",
      });
    // Without the list, the listed page is another page; the default token check says the same.
    await expect(allowLocalDev()(from("http://localhost:5173"), {}, target)).rejects.toMatchObject({
      status: 403,
    });
    for (let i = 0; i < 3; i++)
      expect(() => resolveSecret({}, from("http://127.0.0.1:8797"), logger)).toThrow(
        expect.objectContaining({ status: 403, code: "origin_not_allowed" }),
      );
    expect(logs.filter((l) => l.startsWith("error:"))).toEqual([]);
    expect(logs.filter((l) => l.includes("http://127.0.0.1:8797")).length).toBeLessThanOrEqual(1);
  });

  it("allowLocalDev refuses an origins entry that is not an origin, naming it", () => {
    for (const origin of ["localhost:5173", "http://localhost:5173/app", "*", "null"])
      expect(() => allowLocalDev({ origins: [origin] })).toThrow(origin);
  });

  it("an authorize hook replaces the default: allow with an identity, deny, or answer", async () => {
    const run = (decision: AuthDecision) =>
      authorizeRequest(remote(), {}, target, { authorize: () => decision, logger });
    expect(await run({ user: "ada" })).toEqual({
      type: "allowed",
      identity: { user: "ada" },
      caller: { identity: { user: "ada" }, scopes: [target.scope] },
    });
    expect(await run(undefined)).toEqual({
      type: "allowed",
      identity: {},
      caller: { identity: {}, scopes: [target.scope] },
    });
    await expect(run(false)).rejects.toMatchObject({ status: 403, code: "forbidden" });
    const custom = await run(new Response("go away", { status: 418 }));
    expect(custom.type === "respond" && custom.response.status).toBe(418);
  });
});
