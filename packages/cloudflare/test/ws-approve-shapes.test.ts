import { describe, expect, it } from "vitest";
import { session } from "./support/session.ts";
import { openSocket } from "./support/ws-client.ts";

/**
 * An `approve` frame that carries both shapes docs/delivery.md allows
 * (`{"type":"approve","callId","approved"}` or `{"type":"approve","approvals":[…]}`) and
 * contradicts itself (deny by callId, approve by approvals) is taken as the approvals:
 * the call the frame also denied runs, and the deny is dropped without a word. Bad input
 * is a 400 `invalid_request` that changes nothing (docs/api.md, "Session commands").
 */
describe("an approve frame with both shapes", () => {
  it("is refused with invalid_request and the run still waits", async () => {
    const s = session("approver");
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    socket.send({ type: "start", id: 1, input: { message: "pay" } });
    await socket.until(() => socket.events().some((e) => e.kind === "run.waiting"));
    const requested = socket.events().find((e) => e.kind === "approval.requested");
    const { callId } = (requested?.data ?? {}) as { callId: string };
    expect(callId).toEqual(expect.any(String));
    const before = await s.events();
    socket.send({
      type: "approve",
      id: 2,
      callId,
      approved: false,
      reason: "do not pay",
      approvals: [{ callId, approved: true }],
    });
    await socket.until((frames) => frames.some((f) => f.type === "result" && f.id === 2));
    const result = socket.frames.find((f) => f.type === "result" && f.id === 2);
    expect(result).toMatchObject({ ok: false, error: { code: "invalid_request", status: 400 } });
    expect(await s.events()).toEqual(before);
    socket.ws.close(1000);
  });
});

describe("an approve frame of one decision", () => {
  it("names its own fields in its issues, not the approvals it does not carry", async () => {
    // docs/delivery.md: a field the command does not take is a 400 invalid_request naming it,
    // as over HTTP; the frame {"type":"approve","callId","approved",…} has no `approvals`.
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    socket.send({ type: "approve", id: 7, callId: "call_0_0", approved: true, reasn: "ok" });
    socket.send({ type: "approve", id: 8 });
    await socket.until((frames) => frames.some((f) => f.type === "result" && f.id === 8));
    const paths = (id: number) =>
      (
        socket.frames.find((f) => f.type === "result" && f.id === id) as {
          ok: boolean;
          error?: { details?: { issues?: { path: string }[] } };
        }
      ).error?.details?.issues?.map((i) => i.path);
    socket.ws.close(1000);
    expect(paths(7)).toEqual(["reasn"]);
    const seven = socket.frames.find((f) => f.type === "result" && f.id === 7);
    expect(JSON.stringify(seven)).not.toContain("approvals");
    expect(paths(8)).toEqual(["callId", "approved"]);
  });
});
