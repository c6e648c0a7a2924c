import { describe, expect, it } from "vitest";
import { latestRun, listMessages } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { mathAgent } from "./fixtures.ts";

describe("session runtime", () => {
  it("runs a two-step tool-using run to completion through alarms", async () => {
    const s = createTestSession(mathAgent);
    const started = await s.runtime.start({ message: "What is 2+3?" });
    expect(started.offset).toBe("0000000000000000");
    expect(s.wakeAt()).toBe(s.clock.now());
    await s.drain();

    const events = s.runtime.ledger.read(0);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const kinds = events.map((e) => e.kind).filter((k) => k !== "model.delta");
    expect(kinds).toEqual([
      "run.started",
      "step.started",
      "model.completed",
      "tool.started",
      "tool.completed",
      "step.completed",
      "step.started",
      "model.completed",
      "step.completed",
      "run.completed",
    ]);
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(events.at(-1)?.data).toEqual({ output: "The answer is 5." });
    const messages = listMessages(s.sql, 0, 50);
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(messages[2]?.parts).toEqual([
      {
        type: "tool-result",
        callId: "call_0_0",
        name: "calculator",
        status: "completed",
        result: 5,
      },
    ]);
    expect(s.wakeAt()).toBeNull();
  });

  it("refuses a second start while a run is active, naming the run", async () => {
    const s = createTestSession(mathAgent);
    const first = await s.runtime.start({ message: "hi" });
    await expect(s.runtime.start({ message: "again" })).rejects.toMatchObject({
      status: 409,
      code: "run_active",
      details: { runId: first.runId },
    });
    expect(s.runtime.ledger.tail).toBe(1);
  });
});
