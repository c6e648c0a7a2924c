import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { probe } from "./fixture/probe.ts";
import { type SessionHandle, session } from "./support/session.ts";

/**
 * Throws the object's memory away while its run waits. (`evictDurableObject` hangs on an
 * object that has driven a run in this workerd; an abort is the harder version anyway.)
 */
async function restartObject(s: SessionHandle): Promise<void> {
  await runInDurableObject(s.stub(), (_instance, state) =>
    state.abort("injected crash: restart"),
  ).catch(() => undefined);
}

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

describe("human in the loop over HTTP", () => {
  it("waits for two approvals across object restarts; each answer counts; then completes", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay them" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    const requested = (await s.events()).filter((e) => e.kind === "approval.requested");
    expect(requested).toHaveLength(2);
    const [first, second] = requested.map((e) => (e.data as { callId: string }).callId);

    await restartObject(s);
    expect((await s.status()).status).toBe("waiting");

    const one = await s.post("resume", {
      approvals: [{ callId: first, approved: true, args: { amount: 15 } }],
    });
    expect(one.status).toBe(202);
    expect((await s.status()).status).toBe("waiting");

    await restartObject(s);
    await s.post("resume", {
      approvals: [{ callId: second, approved: false, reason: "not this one" }],
    });
    const done = await s.waitFor((e) => e.kind === "run.completed");
    expect(done.data).toEqual({
      output: 'Results: [{"wired":15},"a human denied this call: not this one"]',
    });
    const wires = (await s.events()).filter((e) => e.kind === "tool.started");
    expect(wires).toHaveLength(1);
    const key = (wires[0]!.data as { idempotencyKey: string }).idempotencyKey;
    expect(probe.executions(`effect:wire:${key}`)).toBe(1);
  });

  it("an approval of an unknown call is a 404 that lists the pending calls, and changes nothing", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    const before = (await s.events()).length;
    const response = await s.post("resume", {
      approvals: [{ callId: "call_nope", approved: true }],
    });
    expect(response.status).toBe(404);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe("unknown_call");
    expect(body.error.message).toContain("call_0_0");
    expect((await s.events()).length).toBe(before);
  });

  // Review finding: `{ approved: false, result }` was taken as both: the ledger said the call
  // was denied (approval.resolved approved: false) and completed it with the result.
  it("a denial that carries a result is a 400 that names the conflict, and changes nothing", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    const before = await s.events();
    const requested = before.find((e) => e.kind === "approval.requested");
    const callId = (requested?.data as { callId: string } | undefined)?.callId;
    const response = await s.post("resume", {
      approvals: [{ callId, approved: false, result: { paid: 0 } }],
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.message).toContain("result");
    expect(await s.events()).toEqual(before);
  });

  // Review finding: approvals with a message (or a checkpoint) were applied and the message
  // dropped without a word; `with_message` means cancelling the calls the approvals answer.
  it("approvals together with a message or a checkpoint are a 400, and change nothing", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    const before = await s.events();
    const requested = before.find((e) => e.kind === "approval.requested");
    const callId = (requested?.data as { callId: string } | undefined)?.callId;
    const approvals = [{ callId, approved: true }];
    for (const extra of [
      { mode: "with_message", message: "no, pay only the first" },
      { message: "and then tell me" },
      { mode: "from_checkpoint", checkpoint: "1" },
    ]) {
      const response = await s.post("resume", { ...extra, approvals });
      expect(response.status).toBe(400);
      expect(((await response.json()) as ErrorBody).error.code).toBe("invalid_request");
    }
    expect(await s.events()).toEqual(before);
    // `continue` is what approvals do anyway: still taken.
    expect((await s.post("resume", { mode: "continue", approvals })).status).toBe(202);
  });

  it("resume of a completed run is a 409, and changes nothing", async () => {
    const s = session("chatty");
    await s.post("runs", { input: { message: "talk" } });
    await s.waitFor((e) => e.kind === "run.completed");
    const before = (await s.events()).length;
    const response = await s.post("resume", { mode: "continue" });
    expect(response.status).toBe(409);
    expect(((await response.json()) as ErrorBody).error.code).toBe("run_not_resumable");
    expect((await s.events()).length).toBe(before);
  });
});
