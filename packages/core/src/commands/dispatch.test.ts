import { describe, expect, it } from "vitest";
import { mathAgent } from "../../test/fixtures.ts";
import type { CommandHookContext } from "../http/hooks.ts";
import { createTestSession } from "../testing/test-session.ts";
import { type Caller, TRUSTED_CALLER } from "./caller.ts";
import { dispatchCommand } from "./dispatch.ts";

function call(t: ReturnType<typeof createTestSession>, caller: Caller, extra = {}) {
  return {
    runtime: t.runtime,
    sql: t.sql,
    clock: t.clock,
    caller,
    transport: "websocket",
    origin: "https://example.test",
    ...extra,
  };
}

describe("dispatchCommand: the one door", () => {
  it("refuses a caller without the command's scope before reading its input; nothing changes", async () => {
    const t = createTestSession(mathAgent);
    const reader: Caller = { identity: {}, scopes: ["read"] };
    await expect(
      dispatchCommand("start", { nonsense: true }, call(t, reader)),
    ).rejects.toMatchObject({
      status: 403,
      code: "missing_scope",
      details: { needed: "write", has: ["read"] },
    });
    expect(t.runtime.ledger.tail).toBe(0);
  });

  it("a fork into another session asks the caller's authority there before any hook: none is a 403, a trusted caller needs none", async () => {
    const t = createTestSession(mathAgent);
    const writer: Caller = { identity: {}, scopes: ["read", "write"] };
    const hooked: string[] = [];
    const hooks = { beforeCommand: async () => void hooked.push("before") };
    const fork = { checkpoint: "1", session: "elsewhere" };
    await expect(dispatchCommand("fork", fork, call(t, writer, { hooks }))).rejects.toMatchObject({
      status: 403,
      code: "wrong_session",
      details: { target: `${t.runtime.status().agent}/elsewhere` },
    });
    const asked: string[] = [];
    const refuse = async (session: string, scope: string) => {
      asked.push(`${session}:${scope}`);
      throw new Error("refused by the rule");
    };
    await expect(
      dispatchCommand("fork", fork, call(t, writer, { hooks, authorizeSession: refuse })),
    ).rejects.toThrow("refused by the rule");
    expect([asked, hooked]).toEqual([["elsewhere:write"], []]);
    // Allowed (or trusted), the fork goes on to its own checks: this session has no checkpoint 1.
    const allow = async () => {};
    for (const extra of [{ authorizeSession: allow }, {}]) {
      const caller = "authorizeSession" in extra ? writer : TRUSTED_CALLER;
      await expect(
        dispatchCommand("fork", fork, call(t, caller, { hooks, ...extra })),
      ).rejects.toMatchObject({ status: 404 });
    }
    // A fork into a session the server names asks nothing more of the source's caller.
    await expect(
      dispatchCommand("fork", { checkpoint: "1" }, call(t, writer, { hooks })),
    ).rejects.toMatchObject({ status: 404 });
    expect(hooked).toEqual(["before", "before", "before"]);
    expect(t.runtime.ledger.tail).toBe(0);
  });

  it("refuses every command once the caller has expired, by the injected clock", async () => {
    const t = createTestSession(mathAgent);
    const caller: Caller = {
      identity: {},
      scopes: ["read", "write"],
      expiresAt: t.clock.now() + 2000,
    };
    const ok = await dispatchCommand("usage.record", { metric: "m", value: 1 }, call(t, caller));
    expect(ok).toMatchObject({ type: "result", status: 201 });
    t.clock.advance(3500);
    await expect(
      dispatchCommand("start", { input: { message: "hi" } }, call(t, caller)),
    ).rejects.toMatchObject({ status: 401, code: "token_expired" });
    expect(t.runtime.ledger.tail).toBe(1);
  });

  it("hooks see the command, its input, caller and transport, and the HTTP request it stands for", async () => {
    const t = createTestSession(mathAgent);
    const seen: unknown[] = [];
    const hook = async (ctx: CommandHookContext) => {
      seen.push({
        command: ctx.command,
        input: ctx.input,
        transport: ctx.transport,
        user: ctx.caller.identity.user,
        url: ctx.request.url,
        method: ctx.request.method,
        body: await ctx.request.json(),
      });
    };
    const caller: Caller = { ...TRUSTED_CALLER, identity: { user: "ada" } };
    await dispatchCommand(
      "start",
      { input: { message: "add" } },
      call(t, caller, { hooks: { beforeCommand: hook, beforeStart: hook } }),
    );
    const expected = {
      command: "start",
      input: { input: { message: "add" } },
      transport: "websocket",
      user: "ada",
      url: "https://example.test/agents/math/s1/runs",
      method: "POST",
      body: { input: { message: "add" } },
    };
    expect(seen).toEqual([expected, expected]);
  });

  it("a before hook's response answers instead of the command; an after hook's replaces its rendering", async () => {
    const t = createTestSession(mathAgent);
    const refused = await dispatchCommand(
      "state.set",
      { state: 1, expectedVersion: 0 },
      call(t, TRUSTED_CALLER, {
        hooks: { beforeCommand: () => new Response("no", { status: 418 }) },
      }),
    );
    expect(refused.type).toBe("answered");
    expect(t.runtime.ledger.tail).toBe(0);
    const replaced = await dispatchCommand(
      "state.set",
      { state: 1, expectedVersion: 0 },
      call(t, TRUSTED_CALLER, { hooks: { afterCommand: () => Response.json({ mine: true }) } }),
    );
    expect(replaced).toMatchObject({ type: "result", status: 200, result: { version: 1 } });
    expect(replaced.type === "result" && (await replaced.response?.json())).toEqual({ mine: true });
  });

  it("a fork into its own session is bad input: a 400 naming session, before any hook", async () => {
    const t = createTestSession(mathAgent);
    const hooked: string[] = [];
    const hooks = { beforeCommand: async () => void hooked.push("before") };
    const own = { checkpoint: "1", session: t.runtime.status().session };
    await expect(
      dispatchCommand("fork", own, call(t, TRUSTED_CALLER, { hooks })),
    ).rejects.toMatchObject({
      status: 400,
      code: "invalid_request",
      details: { issues: [{ path: "session" }] },
    });
    expect(hooked).toEqual([]);
    expect(t.runtime.ledger.tail).toBe(0);
  });
});
