/**
 * A start's implied abort is checked with the caller's request (its headers), as `POST .../abort`
 * is; and two identical chat POSTs at once after a stop (a start with `ends`) start one run. Both
 * from a review of the first fixes (they failed there: the hook saw a request without the
 * caller's headers, and the second POST was a 409).
 */
import { describe, expect, it } from "vitest";
import { chatRequest } from "../../../../test/support/ui-message.ts";
import { httpContext, mathAgent } from "../../test/fixtures.ts";
import type { CommandHookContext } from "../http/hooks.ts";
import { handleSessionRequest } from "../http/session-handler.ts";
import { getRun } from "../ledger/projections/runs.ts";
import { DEFAULT_LIVE_READ } from "../streams/ledger-source.ts";
import { createTestSession } from "../testing/test-session.ts";

describe("an HTTP start's implied abort: beforeCommand sees the caller's request", () => {
  it("a hook that refuses abort by a request header refuses a start with ends as it refuses POST abort", async () => {
    const t = createTestSession(mathAgent);
    const first = await t.runtime.start({ message: "q" });
    // An app rule read from the request, as hooks written for HTTP do (a role, a cookie, a user).
    const hooks = {
      beforeCommand: (ctx: CommandHookContext) => {
        if (ctx.command === "abort" && ctx.request.headers.get("x-role") === "viewer")
          return Response.json(
            { error: { code: "no_abort", message: "viewers may not stop runs" } },
            { status: 403 },
          );
        return undefined;
      },
    };
    const post = (action: string, body: unknown) =>
      handleSessionRequest(
        new Request(`http://x/agents/math/s1/${action}`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-role": "viewer" },
          body: JSON.stringify(body),
        }),
        action,
        httpContext(t, { hooks }),
      );
    expect((await post("abort", {})).status).toBe(403);
    const start = await post("runs", { input: { message: "n", ends: { run: first.runId } } });
    expect({ status: start.status, run: getRun(t.sql, first.runId)?.status }).toEqual({
      status: 403,
      run: "running",
    });
  });
});

describe("chat: two identical POSTs at once after stop() (a start with ends)", () => {
  it("start one run, and both answer with its stream", async () => {
    const t = createTestSession(mathAgent);
    let gated = false;
    let waiting = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const hooks = {
      beforeStart: async () => {
        if (!gated) return undefined;
        if (++waiting === 2) release();
        await gate;
        return undefined;
      },
    };
    const ctx = httpContext(t, { live: { ...DEFAULT_LIVE_READ, windowMs: 0 }, hooks });
    const post = (body: unknown) =>
      handleSessionRequest(
        new Request("http://x/agents/math/s1/chat", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
        "chat",
        ctx,
      ).catch((error: { status?: number; code?: string }) => ({
        status: error.status,
        code: error.code,
        text: async () => "",
      }));
    // The first turn's stream is cut (useChat's stop()): the next message ends that run.
    await ((await post(chatRequest("add", "s1"))) as Response).body?.cancel();
    await new Promise((r) => setTimeout(r, 0));
    expect(t.runtime.status().status).toBe("running");
    gated = true;
    const [r1, r2] = await Promise.all([
      post(chatRequest("add again", "s1")),
      post(chatRequest("add again", "s1")),
    ]);
    await t.drain();
    const [t1, t2] = await Promise.all([r1.text(), r2.text()]);
    const starts = t.runtime.ledger.read(0).filter((e) => e.kind === "run.started");
    expect({ s1: r1.status, s2: r2.status, starts: starts.length }).toEqual({
      s1: 200,
      s2: 200,
      starts: 2,
    });
    expect(t2).toBe(t1);
  });
});
