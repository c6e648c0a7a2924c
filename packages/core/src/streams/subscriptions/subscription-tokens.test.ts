/** Signed wake tokens at the registry's HTTP surface: callback, ack and release (PROTOCOL.md 12.9). */
import { describe, expect, it } from "vitest";
import { fromBase64Url, toBase64Url } from "../../auth/base64url.ts";
import { ManualClock } from "../../testing/manual-clock.ts";
import { SubscriptionRegistry } from "./subscription-registry.ts";
import type { SubscriptionStorage } from "./subscription-types.ts";
import { mintWakeToken, WAKE_TOKEN_TTL_MS } from "./wake-token.ts";

const ROOT = "http://localhost/v1/stream";
const TAIL = "0000000000000000_0000000000000010";

function memoryKv(): SubscriptionStorage {
  const rows = new Map<string, string>();
  return {
    get: (key) => (rows.has(key) ? JSON.parse(rows.get(key) as string) : null),
    put: (key, value) => void rows.set(key, JSON.stringify(value)),
    delete: (key) => void rows.delete(key),
    list: (prefix) =>
      [...rows.keys()]
        .filter((k) => k.startsWith(prefix))
        .sort()
        .map((k) => JSON.parse(rows.get(k) as string)),
  };
}

interface Hook {
  wake_id: string;
  generation: number;
  callback_token: string;
}

function harness(options: { tokenSecret?: string; storage?: SubscriptionStorage } = {}) {
  const clock = new ManualClock();
  const hooks: Hook[] = [];
  const storage = options.storage ?? memoryKv();
  const registry = new SubscriptionRegistry(
    storage,
    {
      now: () => clock.now(),
      deliverWebhook: async (_url, body) => {
        hooks.push(JSON.parse(body));
        return {};
      },
      appendWake: async () => {},
      watchStream: async () => null,
      scheduleAt: () => {},
    },
    options,
  );
  const call = async (method: string, rest: string, body?: unknown, token?: string) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const init = { method, headers, body: body === undefined ? null : JSON.stringify(body) };
    const response = await registry.fetch(new Request(`${ROOT}/__ds/${rest}`, init), rest, ROOT);
    const text = await response.text();
    return { status: response.status, body: text === "" ? null : JSON.parse(text) };
  };
  const nextHook = async (count: number): Promise<Hook> => {
    for (let i = 0; i < 100 && hooks.length < count; i++)
      await new Promise((r) => setTimeout(r, 1));
    expect(hooks).toHaveLength(count);
    return hooks[count - 1] as Hook;
  };
  return { clock, registry, storage, call, nextHook };
}

type Harness = ReturnType<typeof harness>;

async function webhookWake(h: Harness, id = "s1", count = 1): Promise<Hook> {
  if (count === 1) {
    const create = await h.call("PUT", `subscriptions/${id}`, {
      type: "webhook",
      streams: ["events/a"],
      webhook: { url: "http://localhost:9/hook" },
    });
    expect(create.status).toBe(201);
  }
  await h.registry.streamChanged("events/a", `${TAIL.slice(0, -1)}${count}`);
  return h.nextHook(count);
}

async function pullClaim(h: Harness, id = "p1") {
  await h.call("PUT", `subscriptions/${id}`, {
    type: "pull-wake",
    streams: ["events/b"],
    wake_stream: "wake/pool",
  });
  await h.registry.streamChanged("events/b", TAIL);
  const claim = await h.call("POST", `subscriptions/${id}/claim`, { worker: "w1" });
  expect(claim.status).toBe(200);
  return claim.body as { wake_id: string; generation: number; token: string };
}

function settleBody(wake: { wake_id: string; generation: number }, extra: object = {}) {
  return { wake_id: wake.wake_id, generation: wake.generation, ...extra };
}

function expectFenced(result: { status: number; body: unknown }, reason: string) {
  expect(result.status).toBe(409);
  expect(result.body).toMatchObject({ error: { code: "FENCED", reason } });
}

describe("signed wake tokens", () => {
  it("a valid callback token calls back, heartbeats and finishes a webhook wake", async () => {
    const h = harness();
    const hook = await webhookWake(h);
    expect(hook.callback_token.split(".")).toHaveLength(3);
    const beat = await h.call(
      "POST",
      "subscriptions/s1/callback",
      settleBody(hook),
      hook.callback_token,
    );
    expect(beat).toEqual({ status: 200, body: { ok: true, next_wake: false } });
    const acks = [{ stream: "events/a", offset: `${TAIL.slice(0, -1)}1` }];
    const done = await h.call(
      "POST",
      "subscriptions/s1/callback",
      settleBody(hook, { acks, done: true }),
      hook.callback_token,
    );
    expect(done).toEqual({ status: 200, body: { ok: true, next_wake: false } });
    const view = await h.call("GET", "subscriptions/s1");
    expect(view.body.streams[0].acked_offset).toBe(acks[0]?.offset);
  });

  it("a valid claim token heartbeats, acks and releases a pull-wake", async () => {
    const h = harness();
    const claim = await pullClaim(h);
    const beat = await h.call("POST", "subscriptions/p1/ack", settleBody(claim), claim.token);
    expect(beat).toEqual({ status: 200, body: { ok: true, next_wake: false } });
    const ack = await h.call(
      "POST",
      "subscriptions/p1/ack",
      settleBody(claim, { acks: [{ stream: "events/b", offset: TAIL }], done: true }),
      claim.token,
    );
    expect(ack).toEqual({ status: 200, body: { ok: true, next_wake: false } });
    await h.registry.streamChanged("events/b", `${TAIL.slice(0, -1)}9`);
    const claim2 = await h.call("POST", "subscriptions/p1/claim", { worker: "w2" });
    const release = await h.call(
      "POST",
      "subscriptions/p1/release",
      settleBody(claim2.body),
      claim2.body.token,
    );
    expect(release.status).toBe(204);
  });

  it("refuses a token whose payload was changed under its signature", async () => {
    const h = harness();
    const claim = await pullClaim(h);
    const [header, payload = "", signature] = claim.token.split(".");
    const claims = JSON.parse(new TextDecoder().decode(fromBase64Url(payload)));
    const forged = toBase64Url(new TextEncoder().encode(JSON.stringify({ ...claims, gen: 99 })));
    const body = settleBody(claim, { acks: [{ stream: "events/b", offset: TAIL }], done: true });
    const res = await h.call(
      "POST",
      "subscriptions/p1/ack",
      body,
      `${header}.${forged}.${signature}`,
    );
    expectFenced(res, "bad_signature");
    const view = await h.call("GET", "subscriptions/p1");
    expect(view.body.streams[0].acked_offset).not.toBe(TAIL);
  });

  it("refuses a token signed with another secret, even with the right claims", async () => {
    const h = harness({ tokenSecret: "registry-secret-0123456789abcdef-0123" });
    const claim = await pullClaim(h);
    const stored = h.storage.get<{ wake: { token: string } }>("sub:p1");
    const other = await mintWakeToken(
      "attacker-secret-0123456789abcdef-0123",
      {
        sub: "p1",
        wid: claim.wake_id,
        gen: claim.generation,
        kind: "claim",
        jti: stored?.wake.token ?? "",
      },
      h.clock.now(),
    );
    expectFenced(
      await h.call("POST", "subscriptions/p1/release", settleBody(claim), other),
      "bad_signature",
    );
    expect(
      (await h.call("POST", "subscriptions/p1/release", settleBody(claim), claim.token)).status,
    ).toBe(204);
  });

  it("heartbeats keep a wake alive until its token expires, then the token is refused", async () => {
    const h = harness();
    const claim = await pullClaim(h);
    for (let t = 20_000; t < WAKE_TOKEN_TTL_MS; t += 20_000) {
      h.clock.advance(20_000);
      const beat = await h.call("POST", "subscriptions/p1/ack", settleBody(claim), claim.token);
      expect(beat.status).toBe(200);
    }
    h.clock.advance(20_000);
    const late = await h.call("POST", "subscriptions/p1/ack", settleBody(claim), claim.token);
    expectFenced(late, "token_expired");
    expect(late.body.error.message).toMatch(/expired at .*wait for the next wake or claim again/);
  });

  it("refuses a validly signed token of a superseded generation", async () => {
    const h = harness();
    const first = await webhookWake(h);
    const acks = [{ stream: "events/a", offset: `${TAIL.slice(0, -1)}1` }];
    const done = settleBody(first, { acks, done: true });
    expect(
      (await h.call("POST", "subscriptions/s1/callback", done, first.callback_token)).status,
    ).toBe(200);
    const second = await webhookWake(h, "s1", 2);
    expect(second.generation).toBe(first.generation + 1);
    const replay = await h.call("POST", "subscriptions/s1/callback", done, first.callback_token);
    expectFenced(replay, "stale_wake");
    const mixed = settleBody(second, { acks, done: true });
    expectFenced(
      await h.call("POST", "subscriptions/s1/callback", mixed, first.callback_token),
      "stale_wake",
    );
    expect(
      (await h.call("POST", "subscriptions/s1/callback", mixed, second.callback_token)).status,
    ).toBe(200);
  });

  it("refuses a missing token, a token of another kind or subscription, and a deleted subscription", async () => {
    const h = harness();
    const claim = await pullClaim(h);
    const hook = await webhookWake(h, "s1");
    expectFenced(await h.call("POST", "subscriptions/p1/ack", settleBody(claim)), "missing_token");
    expectFenced(
      await h.call("POST", "subscriptions/p1/ack", settleBody(claim), "ct_0123"),
      "malformed_token",
    );
    expectFenced(
      await h.call("POST", "subscriptions/p1/callback", settleBody(claim), claim.token),
      "wrong_token_kind",
    );
    expectFenced(
      await h.call("POST", "subscriptions/p1/ack", settleBody(claim), hook.callback_token),
      "wrong_subscription",
    );
    await h.call("DELETE", "subscriptions/p1");
    expectFenced(
      await h.call("POST", "subscriptions/p1/ack", settleBody(claim), claim.token),
      "subscription_deleted",
    );
  });

  it("keeps the generated secret in storage, so tokens survive a restart", async () => {
    const storage = memoryKv();
    const claim = await pullClaim(harness({ storage }));
    expect(storage.get<string>("token-secret")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const restarted = harness({ storage });
    expect(
      (await restarted.call("POST", "subscriptions/p1/release", settleBody(claim), claim.token))
        .status,
    ).toBe(204);
  });

  it("refuses to run with a configured secret shorter than 32 characters", async () => {
    const res = await harness({ tokenSecret: "short" }).call("GET", "jwks.json");
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe("TOKEN_SECRET_INVALID");
  });
});
