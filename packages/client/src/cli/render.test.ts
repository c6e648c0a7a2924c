import { describe, expect, it } from "vitest";
import type { LedgerEvent } from "../types.ts";
import { ChatRenderer, compact, plain } from "./render.ts";

let seq = 0;
const ev = (kind: string, data: Record<string, unknown>): LedgerEvent =>
  ({
    seq: ++seq,
    offset: String(seq).padStart(16, "0"),
    runId: "r1",
    kind,
    data,
    ts: 0,
  }) as LedgerEvent;

describe("ChatRenderer", () => {
  it("puts tool lines on their own line even mid-text, and ends on a newline", () => {
    const r = new ChatRenderer(plain);
    const out = [
      ev("model.delta", { step: 0, text: "Checking" }),
      ev("tool.started", { step: 0, callId: "c1", name: "notes", args: { text: "hi" } }),
      ev("tool.failed", {
        callId: "c1",
        name: "notes",
        error: { code: "boom", message: "disk full" },
      }),
      ev("model.delta", { step: 1, text: "Sorry." }),
    ].map((e) => r.render(e));
    expect(out.join("") + r.finish()).toBe(
      'Checking\n→ notes({"text":"hi"})\n✗ notes: disk full (boom)\nSorry.\n',
    );
  });

  it("prints model.completed text only when the step did not stream", () => {
    const r = new ChatRenderer(plain);
    expect(r.render(ev("model.delta", { step: 0, text: "a" }))).toBe("a");
    expect(r.render(ev("model.completed", { step: 0, text: "a", toolCalls: [] }))).toBe("");
    expect(r.render(ev("model.completed", { step: 1, text: "b", toolCalls: [] }))).toBe("b");
  });

  it("says a step is retried, without calling every retry a crash (a retried model error is one too)", () => {
    const r = new ChatRenderer(plain);
    expect(r.render(ev("step.started", { step: 1, attempt: 1 }))).toBe("");
    const retried = r.render(ev("step.started", { step: 1, attempt: 2 }));
    expect(retried).toBe(
      "↻ step 1, attempt 2: the previous attempt failed or was lost; retrying\n",
    );
    expect(retried).not.toContain("crash");
  });

  it("ignores kinds it does not know", () => {
    expect(new ChatRenderer(plain).render(ev("future.kind", {}))).toBe("");
  });
});

describe("compact", () => {
  it("prints strings bare, JSON on one line, and cuts long values", () => {
    expect(compact("5")).toBe("5");
    expect(compact({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(compact("x".repeat(300), 10)).toBe(`${"x".repeat(9)}…`);
    expect(compact(undefined)).toBe("undefined");
  });
});
