import { env, SELF } from "cloudflare:test";
import { mintSessionToken } from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import { chatRequest } from "../../../test/support/ui-message.ts";
import { probe } from "./fixture/probe.ts";
import { BASE, session } from "./support/session.ts";

afterEach(() => probe.reset());

/** What DefaultChatTransport POSTs to `/chat/:agent` (ai v7). */
const body = (id: string, text = "go") => JSON.stringify(chatRequest(text, id));

function post(path: string, payload: string, token?: string): Promise<Response> {
  const headers = new Headers({ "content-type": "application/json" });
  if (token) headers.set("authorization", `Bearer ${token}`);
  return SELF.fetch(`${BASE}${path}`, { method: "POST", headers, body: payload });
}

async function code(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe("the useChat URLs: POST /chat/:agent, GET /chat/:agent/:id/stream", () => {
  it("the chat id in the body is the session; the stream ends [DONE] and the ledger has the run", async () => {
    const s = session("chatty");
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session: s.session });
    const response = await post("/chat/chatty", body(s.session), token);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    expect((await response.text()).endsWith("data: [DONE]\n\n")).toBe(true);
    expect((await s.status()).status).toBe("completed");
  });

  it("has the session routes' auth: no token 401, another session's token 403; nothing starts", async () => {
    const mine = session("chatty");
    const other = session("chatty");
    const token = await mintSessionToken(env.AUTH_SECRET, {
      agent: "chatty",
      session: mine.session,
    });
    const none = await post("/chat/chatty", body(other.session));
    expect(none.status).toBe(401);
    const wrong = await post("/chat/chatty", body(other.session), token);
    expect(wrong.status).toBe(403);
    const stream = await SELF.fetch(`${BASE}/chat/chatty/${other.session}/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(stream.status).toBe(403);
    expect(await other.events()).toEqual([]);
  });

  it("resume answers 204 when nothing runs; bad bodies are 400s that start nothing", async () => {
    const s = session("chatty");
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session: s.session });
    const idle = await SELF.fetch(`${BASE}/chat/chatty/${s.session}/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(idle.status).toBe(204);
    expect(await code(await post("/chat/chatty", "{not json", token))).toBe("malformed_json");
    expect(await code(await post("/chat/chatty", JSON.stringify({ messages: [] }), token))).toBe(
      "invalid_request",
    );
    const assistantLast = JSON.stringify({
      id: s.session,
      messages: [{ id: "a1", role: "assistant", parts: [{ type: "text", text: "hi" }] }],
    });
    const refused = await post("/chat/chatty", assistantLast, token);
    expect(refused.status).toBe(400);
    const regenerate = JSON.stringify({
      id: s.session,
      trigger: "regenerate-message",
      messageId: "run_nope",
      messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "again" }] }],
    });
    const notLatest = await post("/chat/chatty", regenerate, token);
    expect(notLatest.status).toBe(409);
    expect(await code(notLatest)).toBe("not_latest_run");
    expect(await s.events()).toEqual([]);
  });

  it("regenerate while the latest run is still going ends it and answers again in its place", async () => {
    const s = session("probe");
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "probe", session: s.session });
    probe.close("slow_echo");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor((e) => e.kind === "tool.started");
    const first = (await s.status()).runId;
    const regenerate = JSON.stringify({
      id: s.session,
      trigger: "regenerate-message",
      messageId: first,
      messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "go" }] }],
    });
    const response = post("/chat/probe", regenerate, token);
    await s.waitFor((e) => e.kind === "run.aborted");
    probe.open("slow_echo");
    expect((await response).status).toBe(200);
    expect((await (await response).text()).endsWith("data: [DONE]\n\n")).toBe(true);
    const events = await s.events();
    const second = events.filter((e) => e.kind === "run.started").at(-1);
    expect(events.find((e) => e.kind === "run.aborted")?.data).toEqual({
      reason: `replaced: run ${second?.runId} answers its turn again (a regenerate or an edit)`,
    });
    expect(second?.data).toMatchObject({ replaces: first });
    const messages = await s.messages();
    expect(messages.filter((m) => m.role === "user")).toHaveLength(1);
    expect(messages.every((m) => m.runId === second?.runId)).toBe(true);
  });
});
