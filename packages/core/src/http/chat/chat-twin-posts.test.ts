/**
 * Two identical chat POSTs at once (a client, proxy or fetch wrapper retrying while its first
 * request is still being checked): the route awaits hooks before it starts a run, so both can
 * pass the "already answered?" check before either starts. One run starts; the other request
 * gets that run's stream, not a 409 (seen under load in workerd, chat-turns-attack.test.ts).
 */
import { describe, expect, it } from "vitest";
import { httpContext, mathAgent } from "../../../test/fixtures.ts";
import { DEFAULT_LIVE_READ } from "../../streams/ledger-source.ts";
import { createTestSession } from "../../testing/test-session.ts";
import { handleSessionRequest } from "../session-handler.ts";

describe("chat: two identical POSTs interleaved at the hooks", () => {
  it("start one run, and both answer with its stream", async () => {
    const t = createTestSession(mathAgent);
    // Both requests wait in beforeStart until both have reached it: each checked the session
    // before the other started anything.
    let waiting = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const hooks = {
      beforeStart: async () => {
        if (++waiting === 2) release();
        await gate;
        return undefined;
      },
    };
    const ctx = httpContext(t, { live: { ...DEFAULT_LIVE_READ, windowMs: 0 }, hooks });
    const body = JSON.stringify({
      id: "s1",
      trigger: "submit-message",
      messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "2+3" }] }],
    });
    const post = () =>
      handleSessionRequest(
        new Request("http://x/agents/math/s1/chat", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        }),
        "chat",
        ctx,
      );
    const [r1, r2] = await Promise.all([post(), post()]);
    await t.drain();
    const [t1, t2] = await Promise.all([r1.text(), r2.text()]);
    const starts = t.runtime.ledger.read(0).filter((e) => e.kind === "run.started");
    expect({ s1: r1.status, s2: r2.status, starts: starts.length }).toEqual({
      s1: 200,
      s2: 200,
      starts: 1,
    });
    expect(t2).toBe(t1);
  });
});
