import { env, SELF } from "cloudflare:test";
import { mintIndexToken, mintSessionToken, SESSION_COMMANDS } from "@durable-agents/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { migrateIndexDb, resetIndexDb } from "./support/index-db.ts";
import { BASE, isTerminal, type SessionHandle, session } from "./support/session.ts";
import { openSocket, type TestSocket } from "./support/ws-client.ts";

const ACTIONS = [
  "runs",
  "interrupt",
  "abort",
  "resume",
  "retry",
  "fork",
  "status",
  "messages",
  "checkpoints",
  "events",
  "snapshot",
  "state",
  "usage",
  "schedules",
  "agui",
  "ui-stream",
  "stop",
  "hello",
  "ws",
];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
const QUERY_KEYS = [
  "offset",
  "live",
  "cursor",
  "limit",
  "runId",
  "key",
  "agent",
  "status",
  "user",
  "tag",
  "from",
  "to",
  "kind",
  "token",
];
// A number or boolean in every field any route reads makes every body invalid,
// whatever else the object holds: the fuzz sends only malformed input.
const POISON_KEYS = [
  "input",
  "reason",
  "mode",
  "checkpoint",
  "kind",
  "messages",
  "approvals",
  "session",
  "key",
  "metric",
  "tags",
];

const text = fc.string({ maxLength: 40, unit: "binary" });
const ascii = fc.string({
  maxLength: 24,
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
});
const queryValue = fc.oneof(
  text,
  fc.constantFrom(
    "-1",
    "0",
    "now",
    "abc",
    "0000000000000000",
    "99999999999999999999",
    "200",
    "1e3",
    "long-poll-ish",
    "%",
    "2026-13-45",
  ),
);
const query = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), text), queryValue), { maxLength: 4 })
  .map((pairs) => new URLSearchParams(pairs).toString());
const poison = fc.oneof(fc.integer(), fc.boolean(), fc.double());
const poisoned = fc
  .tuple(
    fc.dictionary(text, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    fc.tuple(...POISON_KEYS.map(() => poison)),
  )
  .map(([rest, values]) =>
    JSON.stringify({ ...rest, ...Object.fromEntries(POISON_KEYS.map((k, i) => [k, values[i]])) }),
  );
const body = fc.oneof(
  { weight: 3, arbitrary: poisoned },
  { weight: 2, arbitrary: text.filter((t) => t.trim() !== "" && !isJsonObject(t)) },
  {
    weight: 2,
    arbitrary: fc
      .jsonValue()
      .filter((v) => typeof v !== "object" || v === null || Array.isArray(v))
      .map((v) => JSON.stringify(v)),
  },
  { weight: 1, arbitrary: fc.constant(`{"input":{"message":"${"x".repeat(70_000)}"}}`) },
  // Nested past LIMITS.maxJsonDepth: refused before anything parses or walks it.
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 65, max: 12_000 })
      .map((n) => `{"state":${"[".repeat(n)}${"]".repeat(n)},"expectedVersion":0,"kind":1}`),
  },
);
// Malformed percent-encoding (a 400, never a thrown URIError).
const MALFORMED_IDS = ["%E0", "%", "%zz", "%C0%AF", "%ED%A0%80", "%ff", "a%"];

function isJsonObject(t: string): boolean {
  try {
    const v = JSON.parse(t) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

describe("fuzz: malformed input at every route", () => {
  it("never gets a 5xx and never changes the session", { timeout: 600_000 }, async () => {
    await resetIndexDb();
    await migrateIndexDb();
    const s = session("probe");
    await s.post("runs", { input: { message: "set the scene" } });
    await s.waitFor(isTerminal);
    const before = {
      events: await s.events(),
      status: await s.status(),
      schedules: await (await s.get("schedules")).json(),
    };
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "probe", session: s.session });
    const admin = await mintIndexToken(env.AUTH_SECRET);
    const statuses = new Map<number, number>();
    // Session and index tokens open no stream: every stream request is refused.
    const fuzzStream = `fuzz-${s.session}`;

    const request = fc.record({
      target: fc.oneof(
        {
          weight: 8,
          arbitrary: fc.record({
            kind: fc.constant("session" as const),
            agent: fc.oneof(
              { weight: 6, arbitrary: fc.constant("probe") },
              fc.constantFrom("chatty", "nobody", "..", "%00", "a b", "%70robe", ...MALFORMED_IDS),
            ),
            name: fc.oneof(
              { weight: 6, arbitrary: fc.constant(s.session) },
              // The same session, percent-encoded: one canonical id, one object.
              fc.constant(`%73${s.session.slice(1)}`),
              fc.constantFrom(...MALFORMED_IDS),
              text.map(encodeURIComponent),
            ),
            action: fc.oneof(
              { weight: 5, arbitrary: fc.constantFrom(...ACTIONS) },
              text.map(encodeURIComponent),
            ),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant("stream" as const),
            path: fc.constantFrom(
              `/v1/stream/${fuzzStream}`,
              "/v1/stream/__ds/jwks.json",
              "/v1/stream/__ds/subscriptions/fuzz",
              "/v1/stream/__ds/subscriptions/%E0",
              "/v1/stream/__ds/subscriptions/fuzz/streams/%zz",
            ),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant("index" as const),
            path: fc.constantFrom(
              "/sessions",
              "/usage",
              "/",
              "/agents",
              "/agents/probe",
              "/nowhere",
            ),
          }),
        },
      ),
      method: fc.constantFrom(...METHODS),
      query,
      body,
      contentType: fc.constantFrom(
        "application/json",
        "text/plain",
        "",
        "application/json; charset=utf-16",
        "multipart/form-data",
      ),
      auth: fc.oneof(
        { weight: 9, arbitrary: fc.constant("valid") },
        fc.constantFrom("none", "garbage", "Bearer da1.x.y"),
      ),
      lastEventId: fc.option(ascii, { nil: undefined }),
    });

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const path =
          r.target.kind === "session"
            ? `/agents/${r.target.agent}/${r.target.name}/${r.target.action}`
            : r.target.path;
        const headers = new Headers();
        if (r.contentType) headers.set("content-type", r.contentType);
        if (r.lastEventId !== undefined) headers.set("last-event-id", r.lastEventId);
        const valid = r.target.kind === "index" ? admin : token;
        if (r.auth === "valid") headers.set("authorization", `Bearer ${valid}`);
        else if (r.auth === "garbage") headers.set("authorization", "Bearer not-a-token");
        else if (r.auth !== "none") headers.set("authorization", r.auth);
        const hasBody = !["GET", "HEAD"].includes(r.method);
        let url: string;
        try {
          url = new URL(`${BASE}${path}?${r.query}`).toString();
        } catch {
          return;
        }
        const response = await SELF.fetch(url, {
          method: r.method,
          headers,
          body: hasBody ? r.body : undefined,
        });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500) {
          throw new Error(
            `${r.method} ${path}?${r.query} -> ${response.status}: ${await response.text()}`,
          );
        }
        if (response.webSocket) {
          response.webSocket.accept();
          response.webSocket.close();
        }
        if (response.status >= 400 && r.method !== "HEAD") {
          const error = (await response.json()) as { error?: { code?: string } };
          expect(typeof error.error?.code).toBe("string");
        } else {
          await response.body?.cancel();
        }
      }),
      { numRuns: 5000, seed: 20261122 },
    );

    expect(await s.events()).toEqual(before.events);
    expect(await s.status()).toEqual(before.status);
    expect(await (await s.get("schedules")).json()).toEqual(before.schedules);
    const streams = (env as unknown as { STREAMS: DurableObjectNamespace }).STREAMS;
    const head = await streams
      .get(streams.idFromName(fuzzStream))
      .fetch(`${BASE}/v1/stream/${fuzzStream}`, { method: "HEAD" });
    expect(head.status).toBe(404);
    expect([...statuses.keys()].every((code) => code < 500)).toBe(true);
    // The fuzz reaches the routes, not only the auth check.
    expect([...statuses.keys()]).toEqual(
      expect.arrayContaining([200, 400, 401, 403, 404, 405, 409, 413]),
    );
  });
});

// Every field any command reads, for the WebSocket fuzz: a boolean or null in each makes
// every command's input invalid (null is valid JSON for `state`, but not for expectedVersion).
const WS_POISON_KEYS = [
  ...POISON_KEYS,
  "state",
  "expectedVersion",
  "value",
  "at",
  "delayMs",
  "cron",
  "payload",
  "callId",
  "approved",
];
const frameType = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...Object.keys(SESSION_COMMANDS), "approve", "ping") },
  text,
);
const frameId = fc.oneof(fc.integer(), ascii, fc.constant(null), fc.boolean(), text);
const poisonedFrame = fc
  .tuple(
    frameType,
    frameId,
    fc.dictionary(text, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    fc.tuple(...WS_POISON_KEYS.map(() => fc.oneof(fc.boolean(), fc.constant(null)))),
  )
  .map(([type, id, rest, values]) =>
    JSON.stringify({
      ...rest,
      ...Object.fromEntries(WS_POISON_KEYS.map((k, i) => [k, values[i]])),
      type,
      id,
    }),
  );
const junkFrame = fc.oneof(
  { weight: 4, arbitrary: poisonedFrame },
  text.filter((t) => t !== '{"type":"ping"}'),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 16 }).map((bytes) => bytes.buffer as ArrayBuffer),
  fc.constant(JSON.stringify({ type: "start", input: { message: "x".repeat(70_000) } })),
  fc
    .integer({ min: 200, max: 20_000 })
    .map(
      (n) => `{"type":"state.set","expectedVersion":0,"state":${"[".repeat(n)}${"]".repeat(n)}}`,
    ),
);
/** Well-formed commands: refused for a read-only caller, whatever they ask. */
const validFrame = fc.constantFrom(
  { type: "start", input: { message: "hi" } },
  { type: "interrupt" },
  { type: "abort", reason: "x" },
  { type: "resume", mode: "continue" },
  { type: "approve", callId: "c1", approved: true },
  { type: "retry" },
  { type: "close" },
  { type: "fork", checkpoint: "cp_1" },
  { type: "state.set", state: { a: 1 }, expectedVersion: 0 },
  { type: "schedule.create", kind: "kick", delayMs: 1000 },
  { type: "schedule.cancel", key: "k" },
  { type: "usage.record", metric: "m", value: 1 },
);

async function socketFor(s: SessionHandle, scope: ("read" | "write")[]): Promise<TestSocket> {
  const token = await mintSessionToken(env.AUTH_SECRET, {
    agent: s.agent,
    session: s.session,
    scope,
  });
  return openSocket(
    (url, init) =>
      SELF.fetch(url, {
        ...init,
        headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${token}` },
      }),
    s.url("ws", "offset=now"),
  );
}

describe("fuzz: random WebSocket frames", () => {
  it("never crash, never answer 5xx, and change nothing", { timeout: 600_000 }, async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    await s.post("schedules", { kind: "kick", key: "keep", delayMs: 3_600_000 });
    const before = {
      events: await s.events(),
      status: await s.status(),
      schedules: await (await s.get("schedules")).json(),
    };
    const writer = await socketFor(s, ["read", "write"]);
    const reader = await socketFor(s, ["read"]);
    const codes = new Map<string, number>();
    const exchange = async (socket: TestSocket, frame: string | ArrayBuffer) => {
      const sent = socket.frames.length;
      socket.ws.send(frame);
      await socket.until(() => socket.frames.length > sent);
      const answer = socket.frames.at(-1) as {
        type: string;
        ok?: boolean;
        error?: { code: string; status: number };
      };
      if (answer.type === "pong") return;
      expect(answer.type).toBe("result");
      if (answer.ok) return;
      expect(answer.error?.status).toBeLessThan(500);
      const code = answer.error?.code ?? "(none)";
      codes.set(code, (codes.get(code) ?? 0) + 1);
    };
    await fc.assert(
      fc.asyncProperty(junkFrame, (frame) => exchange(writer, frame)),
      { numRuns: 1500, seed: 20261129 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          junkFrame,
          validFrame.map((f) => JSON.stringify(f)),
        ),
        (frame) => exchange(reader, frame),
      ),
      { numRuns: 500, seed: 20261130 },
    );
    for (const socket of [writer, reader]) {
      expect(socket.events()).toEqual([]);
      socket.ws.close(1000);
    }
    expect(await s.events()).toEqual(before.events);
    expect(await s.status()).toEqual(before.status);
    expect(await (await s.get("schedules")).json()).toEqual(before.schedules);
    // The frames reach the command layer, not only the frame parser.
    expect([...codes.keys()]).toEqual(
      expect.arrayContaining([
        "malformed_frame",
        "binary_frame",
        "unknown_command",
        "invalid_request",
        "missing_scope",
        "frame_too_large",
        "json_too_deep",
      ]),
    );
  });
});
