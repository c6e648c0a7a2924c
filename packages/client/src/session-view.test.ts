import { describe, expect, it } from "vitest";
import { EMPTY_VIEW, reduceView } from "./session-view.ts";
import type { LedgerEvent } from "./types.ts";

let seq = 0;
const ev = (
  kind: string,
  data: Record<string, unknown>,
  runId: string | null = "r1",
): LedgerEvent =>
  ({ seq: ++seq, offset: String(seq).padStart(16, "0"), runId, kind, data, ts: 0 }) as LedgerEvent;

const fold = (events: LedgerEvent[]) => events.reduce(reduceView, EMPTY_VIEW);

describe("reduceView", () => {
  it("drops the text of a lost attempt when the step restarts", () => {
    const view = fold([
      ev("run.started", { agent: "a", input: { message: "hi" } }),
      ev("step.started", { step: 0, attempt: 1 }),
      ev("model.delta", { step: 0, text: "Hel" }),
      ev("step.started", { step: 0, attempt: 2 }),
      ev("model.delta", { step: 0, text: "Hello" }),
    ]);
    expect(view.messages.at(-1)?.parts).toEqual([{ type: "text", text: "Hello" }]);
    expect(view.status).toBe("running");
  });

  it("tracks the application state and its version, including a restore", () => {
    const view = fold([
      ev("state.updated", { state: { n: 1 }, version: 1, source: "client" }, null),
      ev("run.started", { agent: "a", input: { message: "hi" } }),
      ev("state.updated", { state: { n: 2 }, version: 2, source: "tool", callId: "c1", step: 0 }),
      ev("state.updated", { state: { n: 1 }, version: 3, source: "restore", checkpoint: "x" }),
    ]);
    expect(view.state).toEqual({ n: 1 });
    expect(view.stateVersion).toBe(3);
    expect(EMPTY_VIEW.state).toBeNull();
  });

  it("clears pending approvals when the run ends, keeps unknown kinds harmless", () => {
    const view = fold([
      ev("run.started", { agent: "a", input: { message: "hi" } }),
      ev("approval.requested", { callId: "c1", name: "pay", args: {} }),
      ev("run.waiting", { reason: "approval" }),
      ev("future.kind", { anything: true }),
      ev("run.aborted", { reason: "no" }),
    ]);
    expect(view.pendingApprovals).toEqual([]);
    expect(view.status).toBe("aborted");
    expect(view.offset).toBe(String(seq).padStart(16, "0"));
  });

  it("a resume moves the run again, and a with_message resume shows its user message", () => {
    const view = fold([
      ev("run.started", { agent: "a", input: { message: "hi" } }),
      ev("run.interrupted", { reason: "stop" }),
      ev("run.resumed", { mode: "with_message", message: "go on" }),
    ]);
    expect(view.status).toBe("running");
    expect(view.messages.map((m) => [m.role, m.parts])).toEqual([
      ["user", [{ type: "text", text: "hi" }]],
      ["user", [{ type: "text", text: "go on" }]],
    ]);
  });

  it("shows a call's result in place of its pending part, with the approved arguments", () => {
    const view = fold([
      ev("run.started", { agent: "a", input: { message: "pay" } }),
      ev("model.completed", {
        step: 3,
        text: "",
        toolCalls: [{ callId: "c9", name: "pay", args: { amount: 10 } }],
        finishReason: "tool-calls",
        usage: { inputTokens: 0, outputTokens: 0 },
        model: "m",
      }),
      ev("approval.requested", { step: 3, callId: "c9", name: "pay", args: { amount: 10 } }),
      ev("run.waiting", { reason: "approval" }),
    ]);
    expect(view.messages.map((m) => m.id)).toEqual([`m${seq - 3}`, "r1:3:a", "r1:3:t"]);
    expect(view.messages.at(-1)?.parts).toEqual([
      { type: "tool-result", callId: "c9", name: "pay", status: "pending" },
    ]);
    expect(view.pendingApprovals).toHaveLength(1);
    const done = [
      ev("approval.resolved", { step: 3, callId: "c9", approved: true, args: { amount: 5 } }),
      ev("run.resumed", { mode: "approvals" }),
      ev("tool.failed", {
        step: 3,
        callId: "c9",
        name: "pay",
        error: { code: "x", message: "bad" },
      }),
    ].reduce(reduceView, view);
    expect(done.status).toBe("running");
    expect(done.pendingApprovals).toEqual([]);
    expect(done.messages.map((m) => m.parts)).toEqual([
      [{ type: "text", text: "pay" }],
      [{ type: "tool-call", callId: "c9", name: "pay", args: { amount: 5 } }],
      [
        {
          type: "tool-result",
          callId: "c9",
          name: "pay",
          status: "failed",
          error: { code: "x", message: "bad" },
        },
      ],
    ]);
  });

  it("a resume from a checkpoint drops what the run said after it", () => {
    const view = fold([
      ev("run.started", { agent: "a", input: { message: "hi" } }),
      ev("step.started", { step: 0, attempt: 1 }),
      ev("model.delta", { step: 0, text: "Hello" }),
      ev("run.interrupted", { reason: "stop" }),
    ]);
    const started = view.messages[0]?.seq ?? 0;
    const after = reduceView(
      view,
      ev("run.resumed", { mode: "from_checkpoint", checkpoint: started, message: "again" }),
    );
    expect(after.messages.map((m) => m.parts)).toEqual([
      [{ type: "text", text: "hi" }],
      [{ type: "text", text: "again" }],
    ]);
    expect(after.status).toBe("running");
  });

  it("ignores the status of a run that is not the latest, as the server does", () => {
    const view = fold([
      ev("run.started", { agent: "a", input: { message: "one" } }, "r1"),
      ev("run.started", { agent: "a", input: { message: "two" } }, "r2"),
      ev("run.aborted", { reason: "late" }, "r1"),
      ev("session.closed", { reason: "done" }, null),
    ]);
    expect(view).toMatchObject({ status: "running", runId: "r2", closed: true });
  });
});
