import { env, evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import { mintSessionToken, signClaims } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { session } from "./support/session.ts";
import { openSocket, type TestSocket } from "./support/ws-client.ts";

/** The socket's caller is recorded at the upgrade and every frame is checked against it. */

const results = (s: TestSocket) => s.frames.filter((f) => f.type === "result");

function withToken(token: string) {
  return (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${token}`);
    return SELF.fetch(url, { ...init, headers });
  };
}

async function answer(socket: TestSocket, frame: Record<string, unknown> | string) {
  const before = results(socket).length;
  socket.send(frame);
  await socket.until(() => results(socket).length > before);
  return results(socket).at(-1) as {
    ok: boolean;
    status?: number;
    error?: { code: string; status: number };
  };
}

describe("a WebSocket's commands end with its token", () => {
  it("a token expiring 2 s after the upgrade: a command at once runs, one 3.5 s later is refused; events still arrive", {
    timeout: 20_000,
  }, async () => {
    const s = session("chatty");
    const minted = Date.now();
    const token = await signClaims(env.AUTH_SECRET, {
      sub: `chatty/${s.session}`,
      scope: ["read", "write"],
      exp: Math.ceil((minted + 2000) / 1000),
    });
    const socket = await openSocket(withToken(token), s.url("ws", "offset=-1"));
    expect(
      await answer(socket, { type: "usage.record", id: 1, metric: "early", value: 1 }),
    ).toMatchObject({ ok: true, status: 201 });
    // Waiting is the point here: the token runs out while the socket stays open.
    await new Promise((r) => setTimeout(r, Math.max(0, minted + 3500 - Date.now())));
    expect(
      await answer(socket, { type: "usage.record", id: 2, metric: "late", value: 1 }),
    ).toMatchObject({
      ok: false,
      error: { code: "token_expired", status: 401 },
    });
    expect(await answer(socket, { type: "start", id: 3, input: { message: "hi" } })).toMatchObject({
      ok: false,
      error: { code: "token_expired", status: 401 },
    });
    // Authorization first: a frame that is not JSON, or names no command, hears only that.
    for (const frame of ["{not json", { type: "nosuch", id: 4 }, { type: "start", input: 7 }])
      expect([frame, await answer(socket, frame)]).toMatchObject([
        frame,
        { ok: false, error: { code: "token_expired", status: 401 } },
      ]);
    // Pings and acks are reads, not commands: they still work.
    expect(await answer(socket, { type: "ping", id: 5 })).toMatchObject({ ok: true });
    const events = await s.events();
    expect(events.map((e) => e.kind)).toEqual(["usage.recorded"]);
    // Reads go on until the socket closes: an append by another caller still reaches it.
    await s.post("usage", { metric: "other", value: 1 });
    await socket.until(() => socket.events().length === 2);
    socket.ws.close(1000);
  });
});

describe("the socket's caller survives hibernation", () => {
  it("after the object is evicted, a read-only socket still cannot write and a writer still can", async () => {
    const s = session("chatty");
    const read = await mintSessionToken(env.AUTH_SECRET, {
      agent: "chatty",
      session: s.session,
      scope: ["read"],
    });
    const write = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session: s.session });
    const reader = await openSocket(withToken(read), s.url("ws", "offset=-1"));
    const writer = await openSocket(withToken(write), s.url("ws", "offset=-1"));
    const stub = s.stub();
    await runInDurableObject(stub, (instance) => {
      (instance as { marker?: number }).marker = 1;
    });
    await evictDurableObject(stub);
    await runInDurableObject(stub, (instance, state) => {
      expect((instance as { marker?: number }).marker).toBeUndefined();
      expect(state.getWebSockets()).toHaveLength(2);
    });
    expect(
      await answer(reader, { type: "state.set", id: 1, state: 1, expectedVersion: 0 }),
    ).toMatchObject({
      ok: false,
      error: { code: "missing_scope", status: 403 },
    });
    // Authorization first: a caller that may send no command hears only that, whatever the frame.
    for (const frame of ["{not json", { type: "nosuch", id: 3 }, { type: "start", input: 7 }])
      expect([frame, await answer(reader, frame)]).toMatchObject([
        frame,
        { ok: false, error: { code: "missing_scope", status: 403 } },
      ]);
    // ...under the frame's id, as its answer would be: a client waiting on id 3 is answered.
    expect(await answer(reader, { type: "nosuch", id: 3 })).toMatchObject({ id: 3, ok: false });
    expect(await answer(reader, { type: "ping", id: 4 })).toMatchObject({ ok: true });
    // A writer's bad frame is its own mistake, and it is told so.
    expect(await answer(writer, "{not json")).toMatchObject({
      ok: false,
      error: { code: "malformed_frame" },
    });
    expect(
      await answer(writer, { type: "state.set", id: 2, state: 2, expectedVersion: 0 }),
    ).toMatchObject({ ok: true, status: 200 });
    expect((await s.events()).map((e) => e.kind)).toEqual(["state.updated"]);
    reader.ws.close(1000);
    writer.ws.close(1000);
  });
});
