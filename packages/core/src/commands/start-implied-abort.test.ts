/**
 * A start that replaces or ends the active run aborts it in its own append (run-start.ts), so
 * the abort's rules apply to it: a hook or scope that refuses `abort` refuses that start too
 * (dispatchCommand, `implies`). Found by a review: such a start once bypassed them.
 */
import { describe, expect, it } from "vitest";
import { chatRequest } from "../../../../test/support/ui-message.ts";
import { httpContext, mathAgent } from "../../test/fixtures.ts";
import type { CommandHookContext } from "../http/hooks.ts";
import { handleSessionRequest } from "../http/session-handler.ts";
import { getRun } from "../ledger/projections/runs.ts";
import { DEFAULT_LIVE_READ } from "../streams/ledger-source.ts";
import { createTestSession, type TestSession } from "../testing/test-session.ts";
import type { Caller } from "./caller.ts";
import { dispatchCommand } from "./dispatch.ts";

/** An app rule: runs here are never aborted. */
const hooks = {
  beforeCommand: async (ctx: CommandHookContext) => {
    if (ctx.command === "abort")
      return Response.json(
        { error: { code: "no_abort", message: "runs here are never aborted" } },
        { status: 403 },
      );
    return undefined;
  },
};

function chat(t: TestSession, body: unknown): Promise<Response> {
  const ctx = httpContext(t, { live: { ...DEFAULT_LIVE_READ, windowMs: 0 }, hooks });
  const request = new Request("http://x/agents/math/s1/chat", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return handleSessionRequest(request, "chat", ctx);
}

const aborts = (t: TestSession, runId: string | null) =>
  t.runtime.ledger.read(0).filter((e) => e.kind === "run.aborted" && e.runId === runId);

describe("a start's abort (ends/replaces) is refused by a hook that refuses abort", () => {
  it("chat: a message after stop() does not abort the stopped run when beforeCommand refuses abort", async () => {
    const t = createTestSession(mathAgent);
    await (await chat(t, chatRequest("add", "s1"))).body?.cancel();
    await new Promise((r) => setTimeout(r, 0));
    const runId = t.runtime.status().runId;
    await chat(t, chatRequest("add again", "s1")).catch(() => undefined);
    expect(aborts(t, runId)).toEqual([]);
  });

  it("POST runs { input: { ends } }: refused as the abort alone is, and the run goes on", async () => {
    const t = createTestSession(mathAgent);
    const first = await t.runtime.start({ message: "q" });
    const writer: Caller = { identity: {}, scopes: ["read", "write"] };
    const call = {
      runtime: t.runtime,
      sql: t.sql,
      clock: t.clock,
      caller: writer,
      transport: "http" as const,
      origin: "https://example.test",
      hooks,
    };
    expect((await dispatchCommand("abort", {}, call)).type).toBe("answered");
    expect(getRun(t.sql, first.runId)?.status).toBe("running");
    const start = { input: { message: "n", ends: { run: first.runId } } };
    expect((await dispatchCommand("start", start, call)).type).toBe("answered");
    expect(getRun(t.sql, first.runId)?.status).toBe("running");
  });
});

describe("ends naming another run than replaces", () => {
  it("is a 400 and writes nothing (its reason was meant for another run)", async () => {
    const t = createTestSession(mathAgent);
    const first = await t.runtime.start({ message: "q" });
    const tail = t.runtime.ledger.tail;
    const both = t.runtime.start({
      message: "q again",
      replaces: first.runId,
      ends: { run: "some-other-run", reason: "reason meant for some-other-run" },
    });
    await expect(both).rejects.toMatchObject({ status: 400 });
    expect(t.runtime.ledger.tail).toBe(tail);
  });
});
