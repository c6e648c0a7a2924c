/**
 * `/v1/stream/*` passes the same door as the session routes (issue 10): the fixture Worker's
 * routeRequest with AUTH_SECRET set, tokens from mintStreamToken, the authorize hook and
 * allowLocalDev, over real stream objects in workerd.
 */
import { env, SELF } from "cloudflare:test";
import { mintSessionToken, mintStreamToken, type TokenScope } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import type { AuthTarget } from "../../src/auth/authorize.ts";
import { allowLocalDev, routeStreamRequest } from "../../src/index.ts";

const BASE = "http://agents.test/v1/stream/";
const streams = (env as unknown as { STREAMS: DurableObjectNamespace }).STREAMS;
let n = 0;
const unique = (prefix: string): string => `${prefix}-${Date.now()}-${n++}`;

function call(path: string, token: string | undefined, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
  return SELF.fetch(`${BASE}${path}`, { ...init, headers });
}

/** What the stream object itself holds, asked past the door. */
async function exists(path: string): Promise<boolean> {
  const response = await streams
    .get(streams.idFromName(path))
    .fetch(`${BASE}${path}`, { method: "HEAD" });
  return response.status === 200;
}

async function expectRefused(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(20);
}

const streamToken = (stream: string, scope: TokenScope[] = ["read", "write"]) =>
  mintStreamToken(env.AUTH_SECRET, { stream, scope });
const prefixToken = (prefix: string, scope: TokenScope[] = ["read", "write"]) =>
  mintStreamToken(env.AUTH_SECRET, { prefix, scope });
const create = (path: string, token: string) =>
  call(path, token, { method: "PUT", headers: { "content-type": "text/plain" }, body: "hello" });

describe("/v1/stream/* needs a token with AUTH_SECRET set", () => {
  it("no token and a garbage token are 401 for every method, and change nothing", async () => {
    const path = unique("open");
    const owner = await streamToken(path);
    for (const token of [undefined, "garbage", "da1.e30.AAAA"]) {
      for (const [method, body] of [
        ["PUT", "x"],
        ["POST", "x"],
        ["GET", undefined],
        ["DELETE", undefined],
      ] as const) {
        const response = await call(path, token, {
          method,
          headers: { "content-type": "text/plain" },
          body,
        });
        await expectRefused(response, 401, token === undefined ? "unauthorized" : "invalid_token");
        expect(response.headers.get("www-authenticate")).toContain("Bearer");
      }
      expect((await call(path, token, { method: "HEAD" })).status).toBe(401);
      expect(await exists(path)).toBe(false);
    }
    // ?token=garbage (what EventSource sends) is no better.
    const query = await SELF.fetch(`${BASE}${path}?token=garbage`, { method: "PUT" });
    await expectRefused(query, 401, "invalid_token");
    expect(await exists(path)).toBe(false);

    // The same stream opens with its token; refused requests left it untouched.
    expect((await create(path, owner)).status).toBe(201);
    for (const method of ["POST", "DELETE"]) {
      const response = await call(path, undefined, {
        method,
        headers: { "content-type": "text/plain" },
        body: method === "POST" ? "more" : undefined,
      });
      expect(response.status).toBe(401);
    }
    expect(await (await call(`${path}?offset=-1`, owner)).text()).toBe("hello");
  });

  it("a refusal carries the stream CORS headers, so a browser can read it", async () => {
    const response = await SELF.fetch(`${BASE}${unique("cors")}`, {
      headers: { origin: "https://app.example" },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("access-control-allow-origin")).not.toBeNull();
  });

  it("the subscription routes and the JWKS need a token too", async () => {
    const id = unique("sub");
    for (const [method, path, body] of [
      ["GET", "__ds/jwks.json", undefined],
      ["PUT", `__ds/subscriptions/${id}`, JSON.stringify({ type: "pull-wake", pattern: "x/*" })],
      ["GET", `__ds/subscriptions/${id}`, undefined],
      ["DELETE", `__ds/subscriptions/${id}`, undefined],
      ["POST", `__ds/subscriptions/${id}/claim`, JSON.stringify({ worker: "w" })],
    ] as const) {
      await expectRefused(
        await call(path, undefined, {
          method,
          body,
          headers: { "content-type": "application/json" },
        }),
        401,
        "unauthorized",
      );
    }
    const admin = await prefixToken("__ds", ["read"]);
    expect((await call("__ds/jwks.json", admin)).status).toBe(200);
    // A token for one subscription opens that subscription, with its id decoded the way the
    // registry decodes it: %61 is "a".
    const one = await streamToken(`__ds/subscriptions/${id}a`, ["read"]);
    expect((await call(`__ds/subscriptions/${id}%61`, one)).status).toBe(404);
    await expectRefused(await call(`__ds/subscriptions/${id}b`, one), 403, "wrong_session");
  });

  it("callback, ack and release are not behind the door: their wake token is the credential", async () => {
    for (const action of ["callback", "ack", "release"]) {
      const response = await call(
        `__ds/subscriptions/${unique("s")}/${action}`,
        "not-a-wake-token",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ wake_id: "w", generation: 1 }),
        },
      );
      expect(response.status, action).not.toBe(401);
      expect(response.status, action).toBeGreaterThanOrEqual(400);
      expect(response.status, action).toBeLessThan(500);
    }
  });
});

describe("stream tokens open one stream or a prefix, with read and write scopes", () => {
  it("a token opens only its stream; a read-only token cannot write", async () => {
    const path = unique("mine");
    const other = unique("other");
    const owner = await streamToken(path);
    expect((await create(path, owner)).status).toBe(201);
    await expectRefused(await create(other, owner), 403, "wrong_session");
    expect(await exists(other)).toBe(false);

    const reader = await streamToken(path, ["read"]);
    expect((await call(path, reader)).status).toBe(200);
    expect((await call(path, reader, { method: "HEAD" })).status).toBe(200);
    for (const method of ["POST", "PUT", "DELETE"]) {
      await expectRefused(
        await call(path, reader, {
          method,
          headers: { "content-type": "text/plain" },
          body: method === "DELETE" ? undefined : "x",
        }),
        403,
        "missing_scope",
      );
    }
    expect(await (await call(path, reader)).text()).toBe("hello");
  });

  it("a session token does not open a stream of the same name", async () => {
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "probe", session: "s1" });
    await expectRefused(await create("probe/s1", token), 403, "wrong_session");
  });

  it("a prefix token opens the streams under it on segment boundaries, and nothing else", async () => {
    const root = unique("chat");
    const token = await prefixToken(root);
    expect((await create(`${root}/a`, token)).status).toBe(201);
    expect((await create(`${root}/a/b`, token)).status).toBe(201);
    await expectRefused(await create(`${root}room`, token), 403, "wrong_session");
    await expectRefused(await create(unique("elsewhere"), token), 403, "wrong_session");
    await expectRefused(await call("__ds/jwks.json", token), 403, "wrong_session");
  });

  it("a fork needs read access to its source", async () => {
    const source = unique("secret");
    expect((await create(source, await streamToken(source))).status).toBe(201);
    const fork = unique("copy");
    const forkOnly = await streamToken(fork);
    const forkFrom = { method: "PUT", headers: { "stream-forked-from": source } };
    await expectRefused(await call(fork, forkOnly, forkFrom), 403, "wrong_session");
    expect(await exists(fork)).toBe(false);

    // Without access to the fork itself, malformed fork headers are not even looked at.
    const badFork = { method: "PUT", headers: { "stream-fork-offset": "x" } };
    await expectRefused(await call(fork, undefined, badFork), 401, "unauthorized");
    await expectRefused(await call(fork, forkOnly, badFork), 400, "invalid_header");

    const both = await mintStreamToken(env.AUTH_SECRET, { prefix: "", scope: ["read", "write"] });
    expect((await call(fork, both, forkFrom)).status).toBe(201);
    expect(await (await call(fork, forkOnly)).text()).toBe("hello");
  });
});

describe("the authorize hook and allowLocalDev guard streams as they guard sessions", () => {
  it("the hook sees each stream target and can refuse", async () => {
    const seen: AuthTarget[] = [];
    const route = (path: string, init: RequestInit = {}) =>
      routeStreamRequest(new Request(`${BASE}${path}`, init), streams, env, {
        authorize: (_request, _env, target) => {
          seen.push(target);
          return target.stream?.startsWith("public-") === true;
        },
      });
    const open = unique("public-x");
    expect((await route(open, { method: "PUT" })).status).toBe(201);
    const closed = unique("private-x");
    await expectRefused(await route(closed, { method: "PUT" }), 403, "forbidden");
    await route(unique("public-y"), { method: "PUT", headers: { "stream-forked-from": open } });
    await route("__ds/subscriptions/q%2Fr");
    expect(seen.map((t) => [t.sub, t.scope])).toEqual([
      [`stream:${open}`, "write"],
      [`stream:${closed}`, "write"],
      [expect.stringMatching(/^stream:public-y-/), "write"],
      [`stream:${open}`, "read"],
      ["stream:__ds/subscriptions/q/r", "read"],
    ]);
    expect(await exists(closed)).toBe(false);
  });

  it("allowLocalDev opens loopback only, and only while AUTH_SECRET is unset", async () => {
    const route = (host: string, vars: Record<string, string>) =>
      routeStreamRequest(
        new Request(`http://${host}/v1/stream/${unique("dev")}`, { method: "PUT" }),
        streams,
        vars,
        { authorize: allowLocalDev() },
      );
    expect((await route("127.0.0.1:8787", {})).status).toBe(201);
    expect((await route("localhost", {})).status).toBe(201);
    await expectRefused(await route("streams.example.com", {}), 500, "auth_not_configured");
    await expectRefused(
      await route("127.0.0.1:8787", { AUTH_SECRET: env.AUTH_SECRET }),
      401,
      "unauthorized",
    );
  });
});
