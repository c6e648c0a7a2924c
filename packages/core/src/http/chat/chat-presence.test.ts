import { describe, expect, it } from "vitest";
import { chatRequest } from "../../../../../test/support/ui-message.ts";
import { httpContext, mathAgent } from "../../../test/fixtures.ts";
import { DEFAULT_LIVE_READ } from "../../streams/ledger-source.ts";
import { createTestSession, type TestSession } from "../../testing/test-session.ts";
import { handleSessionRequest } from "../session-handler.ts";
import { CHAT_STOP_REASON, CHAT_SUPERSEDED_REASON } from "./chat-presence.ts";

/** A chat stream cut before its run ended stops the run, unless the client comes back. */
function call(t: TestSession, method: string, body?: unknown): Promise<Response> {
  // The session's manual clock does not move by itself: deliver each append, no window.
  const ctx = httpContext(t, { live: { ...DEFAULT_LIVE_READ, windowMs: 0 } });
  const request = new Request("http://x/agents/math/s1/chat", {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return handleSessionRequest(request, "chat", ctx);
}

const send = (text: string) => chatRequest(text, "s1");

/** Lets the stream's cancel and the timers it starts run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

const kinds = (t: TestSession) => t.runtime.ledger.read(0).map((e) => e.kind);

describe("chat streams and stop()", () => {
  it("a cut stream that nobody reopens interrupts its run after stopAfterDisconnectMs", async () => {
    const t = createTestSession(mathAgent);
    const response = await call(t, "POST", send("add"));
    await response.body?.cancel();
    await settle();
    t.clock.advance(4_999);
    await settle();
    expect(kinds(t)).not.toContain("run.interrupt_requested");
    t.clock.advance(1);
    await settle();
    const requested = t.runtime.ledger.read(0).find((e) => e.kind === "run.interrupt_requested");
    expect(requested?.data).toEqual({ reason: CHAT_STOP_REASON });
    await t.drain();
    expect(t.runtime.status().status).toBe("interrupted");
  });

  it("a reload (the stream reopened within the window) leaves the run going", async () => {
    const t = createTestSession(mathAgent);
    await (await call(t, "POST", send("add"))).body?.cancel();
    await settle();
    const resumed = await call(t, "GET");
    expect(resumed.status).toBe(200);
    t.clock.advance(10_000);
    await settle();
    expect(kinds(t)).not.toContain("run.interrupt_requested");
    const read = resumed.text();
    await t.drain();
    expect(await read).toContain('"finishReason":"stop"');
    expect(t.runtime.status().status).toBe("completed");
  });

  it("a message sent after stop() does not wait for the window: the stopped run ends, the new one starts", async () => {
    const t = createTestSession(mathAgent);
    await (await call(t, "POST", send("add"))).body?.cancel();
    await settle();
    const next = await call(t, "POST", send("add again"));
    expect(next.status).toBe(200);
    const events = t.runtime.ledger.read(0);
    expect(events.find((e) => e.kind === "run.aborted")?.data).toEqual({
      reason: CHAT_STOP_REASON,
    });
    expect(events.filter((e) => e.kind === "run.started")).toHaveLength(2);
    const read = next.text();
    await t.drain();
    await read;
    expect(t.runtime.status().status).toBe("completed");
  });

  it("without a cut, a second message while a run is going is a 409 run_active", async () => {
    const t = createTestSession(mathAgent);
    const first = await call(t, "POST", send("add"));
    await expect(call(t, "POST", send("add again"))).rejects.toMatchObject({
      code: "run_active",
      status: 409,
    });
    await first.body?.cancel();
  });

  it("a new message after the running answer the client saw (stop() and send on) ends that run at once, before its cut is noticed", async () => {
    const t = createTestSession(mathAgent);
    const first = await call(t, "POST", send("add"));
    const runId = t.runtime.status().runId;
    // The client's view: its message, the (stopped) answer it was streaming, and a new one.
    const next = await call(t, "POST", {
      id: "s1",
      trigger: "submit-message",
      messages: [
        { id: "u1", role: "user", parts: [{ type: "text", text: "add" }] },
        { id: runId, role: "assistant", parts: [{ type: "text", text: "Let me" }] },
        { id: "u2", role: "user", parts: [{ type: "text", text: "add again" }] },
      ],
    });
    expect(next.status).toBe(200);
    const events = t.runtime.ledger.read(0);
    expect(events.find((e) => e.kind === "run.aborted" && e.runId === runId)?.data).toEqual({
      reason: CHAT_SUPERSEDED_REASON,
    });
    expect(events.filter((e) => e.kind === "run.started")).toHaveLength(2);
    await first.body?.cancel();
    const read = next.text();
    await t.drain();
    await read;
    expect(t.runtime.status().status).toBe("completed");
  });
});
