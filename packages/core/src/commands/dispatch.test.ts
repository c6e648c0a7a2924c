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
});
