import { describe, expect, it } from "vitest";
import { httpContext, mathAgent } from "../../test/fixtures.ts";
import { createTestSession } from "../testing/test-session.ts";
import type { SessionHooks } from "./hooks.ts";
import { handleSessionRequest } from "./session-handler.ts";
import { usageView } from "./usage-view.ts";

function post(action: string, body: unknown): Request {
  return new Request(`http://x/agents/math/s1/${action}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("hooks around session actions", () => {
  it("maps runs → start, resume → resume, retry → retry; before can answer, after can replace", async () => {
    const t = createTestSession(mathAgent);
    const seen: string[] = [];
    const hooks: SessionHooks = {
      beforeStart: async ({ request, session }) => {
        seen.push(
          `beforeStart:${session}:${((await request.json()) as { input: { message: string } }).input.message}`,
        );
        return undefined;
      },
      afterStart: (_ctx, response) => {
        seen.push(`afterStart:${response.status}`);
        return new Response("replaced", { status: 202 });
      },
      beforeRetry: () => new Response("no retries today", { status: 429 }),
    };
    const ctx = httpContext(t, { hooks });
    const started = await handleSessionRequest(
      post("runs", { input: { message: "add" } }),
      "runs",
      ctx,
    );
    expect(await started.text()).toBe("replaced");
    expect(seen).toEqual(["beforeStart:s1:add", "afterStart:202"]);
    await t.drain();
    const retry = await handleSessionRequest(post("retry", {}), "retry", ctx);
    expect(retry.status).toBe(429);
    expect(t.runtime.status().status).toBe("completed");
  });
});

describe("usageView", () => {
  it("prices models by id and falls back to '*'; unpriced entries are listed", async () => {
    const t = createTestSession(mathAgent);
    await t.runtime.start({ message: "add" });
    await t.drain();
    const free = usageView(t.sql);
    expect(free.rollup.cost).toBeNull();
    expect(free.rollup.modelCalls).toBe(2);
    const { inputTokens, outputTokens } = free.rollup;
    const priced = usageView(t.sql, {
      [free.models[0]?.model ?? ""]: { inputPerMillion: 1, outputPerMillion: 2 },
    });
    expect(priced.rollup.cost).toBeCloseTo((inputTokens + 2 * outputTokens) / 1e6, 9);
    expect(
      usageView(t.sql, { other: { inputPerMillion: 1, outputPerMillion: 1 } }).rollup.unpriced,
    ).toEqual([free.models[0]?.model]);
  });
});
