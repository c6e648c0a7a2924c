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

  it("puts a tool result without a step under the step that called it", () => {
    const view = fold([
      ev("model.completed", {
        step: 3,
        text: "",
        toolCalls: [{ callId: "c9", name: "calc", args: {} }],
        finishReason: "tool-calls",
        usage: { inputTokens: 0, outputTokens: 0 },
      }),
      ev("tool.failed", { callId: "c9", name: "calc", error: { code: "x", message: "bad" } }),
    ]);
    expect(view.messages.map((m) => m.id)).toEqual(["r1:3:a", "r1:3:t"]);
  });
});
