/**
 * Review finding: JSON command bodies were read whatever their content-type, so a browser's
 * cross-site "simple" request (text/plain, a form post: no CORS preflight) started a run, posted
 * a chat message or set the state on behalf of a cookie-authorized user. Every JSON body is read
 * by core's one reader (`readJson`), which refuses another media type with a 415 before reading
 * it; the real clients, which send application/json, are tested in their own files (chat,
 * agui, ui-stream, mcp-server, the client project) and still pass.
 */
import { env, SELF } from "cloudflare:test";
import { mintStreamToken } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { chatRequest } from "../../../test/support/ui-message.ts";
import { BASE, type SessionHandle, session } from "./support/session.ts";

/** What a browser sends cross-site without a preflight, and what is JSON but not ours. */
const REFUSED: (string | null)[] = [
  "text/plain;charset=UTF-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  null,
  "application/merge-patch+json",
  "application/jsonp",
];

function send(
  s: SessionHandle,
  url: string,
  method: string,
  body: unknown,
  type: string | null,
): Promise<Response> {
  const headers: Record<string, string> = type === null ? {} : { "content-type": type };
  // A Blob without a type: fetch adds no content-type of its own (a string body would get text/plain).
  return s.fetch(url, { method, headers, body: new Blob([JSON.stringify(body)]) });
}

async function expectUnsupported(response: Response, type: string | null): Promise<void> {
  const { error } = (await response.json()) as {
    error: { code: string; message: string; details: { received: string | null } };
  };
  expect([response.status, error.code], String(type)).toEqual([415, "unsupported_media_type"]);
  expect(error.message).toContain("content-type: application/json");
  expect(error.details.received).toBe(type);
}

describe("a JSON body with another media type is a 415 that changes nothing", () => {
  it("POST .../runs: no run starts", async () => {
    const s = session("probe");
    for (const type of REFUSED)
      await expectUnsupported(
        await send(s, s.url("runs"), "POST", { input: { message: "hi" } }, type),
        type,
      );
    expect(await s.status()).toMatchObject({ status: "idle", runId: null });
    expect(await s.events()).toEqual([]);
  });

  it("POST /chat/:agent: no run starts", async () => {
    const s = session("chatty");
    for (const type of REFUSED)
      await expectUnsupported(
        await send(s, `${BASE}/chat/chatty`, "POST", chatRequest("hi", s.session), type),
        type,
      );
    expect(await s.events()).toEqual([]);
  });

  it("PUT .../state: the state is unchanged", async () => {
    const s = session("counter");
    const before = await (await s.get("state")).json();
    for (const type of REFUSED)
      await expectUnsupported(
        await send(s, s.url("state"), "PUT", { state: { count: 7 }, expectedVersion: 0 }, type),
        type,
      );
    expect(await (await s.get("state")).json()).toEqual(before);
    expect(await s.events()).toEqual([]);
  });

  it("POST .../schedules, AG-UI's POST .../agui, and a body on an optional-body command (abort): nothing is written", async () => {
    const s = session("probe");
    const agui = {
      threadId: s.session,
      runId: "r1",
      messages: [{ id: "m1", role: "user", content: "hi" }],
      tools: [],
      context: [],
      state: {},
      forwardedProps: {},
    };
    for (const type of REFUSED) {
      const schedule = { kind: "kick", payload: { message: "later" }, delayMs: 60_000 };
      await expectUnsupported(await send(s, s.url("schedules"), "POST", schedule, type), type);
      await expectUnsupported(await send(s, s.url("agui"), "POST", agui, type), type);
      await expectUnsupported(await send(s, s.url("abort"), "POST", { reason: "x" }, type), type);
    }
    expect(
      ((await (await s.get("schedules")).json()) as { schedules: unknown[] }).schedules,
    ).toEqual([]);
    expect(await s.events()).toEqual([]);
    // An optional body left out needs no content-type: the command runs (a 409, as nothing runs).
    const bare = await s.fetch(s.url("abort"), { method: "POST" });
    expect(bare.status).not.toBe(415);
  });

  it("a __ds subscription body on /v1/stream: nothing is created", async () => {
    const token = await mintStreamToken(env.AUTH_SECRET, {
      prefix: "__ds",
      scope: ["read", "write"],
    });
    const auth = { authorization: `Bearer ${token}` };
    const id = `sub-${Date.now()}`;
    const url = `${BASE}/v1/stream/__ds/subscriptions/${id}`;
    const config = new Blob([
      JSON.stringify({ type: "pull-wake", pattern: "x/*", wake_stream: "w" }),
    ]);
    const refused = await SELF.fetch(url, {
      method: "PUT",
      headers: { ...auth, "content-type": "text/plain" },
      body: config,
    });
    expect(refused.status).toBe(415);
    expect((await SELF.fetch(url, { headers: auth })).status).toBe(404);
    // The same body as JSON creates it: the refusal was the media type's.
    const created = await SELF.fetch(url, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/json" },
      body: config,
    });
    expect(created.status).toBe(201);
  });

  it("application/json is taken in any case and with parameters", async () => {
    const s = session("probe");
    const started = await send(
      s,
      s.url("runs"),
      "POST",
      { input: { message: "hi" } },
      "Application/JSON; charset=utf-8",
    );
    expect(started.status).toBe(202);
  });
});
