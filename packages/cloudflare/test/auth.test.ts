import { env, SELF } from "cloudflare:test";
import { mintSessionToken, signClaims } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
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
        body: JSON.stringify({ input: { message: "hi" } }),
      }),
      403,
      "wrong_session",
    );
    expect(await other.events()).toEqual([]);
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
        body: JSON.stringify({ input: { message: "hi" } }),
      }),
      403,
      "missing_scope",
    );
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
