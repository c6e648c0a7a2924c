import { describe, expect, it } from "vitest";
import { defineAgent, scriptedModel } from "../src/index.ts";
import type { LedgerEvent } from "../src/ledger/events.ts";
import { createTestSession, type TestSession } from "../src/testing/index.ts";
import { calculator } from "./fixtures.ts";

/**
 * The demo's flow on the real session runtime: the user presses stop while the scripted model's
 * answer streams (`interrupt`: the partial text is kept as the step's assistant message), then
 * resumes the run with `continue`. The model must read that prompt for what it is: an answer
 * cut short, not a finished tool round.
 */
const calculating = defineAgent({
  name: "calc",
  system: "You add numbers.",
  tools: [calculator],
  model: scriptedModel({
    chunkSize: 2,
    delayMs: 1,
    rules: [
      ({ turn, toolResults }) =>
        turn === 0
          ? { text: "Let me add that.", toolCalls: [{ name: "calculator", args: { a: 2, b: 3 } }] }
          : { text: `The answer is ${toolResults[0]?.output ?? "unknown"}.` },
    ],
  }),
});

/** A session whose run is interrupted at its first text delta in model step `step`. */
function stoppedAt(step: number): { s: TestSession } {
  const box: { s?: TestSession } = {};
  let once = true;
  box.s = createTestSession(calculating, {
    coalesce: { maxDelayMs: 50, maxChars: 1 },
    faults: (point, info) => {
      if (point !== "mid-stream" || info.step !== step || !once) return;
      once = false;
      void box.s?.runtime.interrupt("user pressed stop");
    },
  });
  return { s: box.s };
}

const kinds = (events: readonly LedgerEvent[], kind: LedgerEvent["kind"]) =>
  events.filter((e) => e.kind === kind);

describe("the scripted model resumed with continue after an interrupt mid-answer", () => {
  it("cut in its first answer: it calls the tool and answers from the result", async () => {
    const { s } = stoppedAt(1);
    await s.runtime.start({ message: "What is 2+3?" });
    await s.drain();
    expect(s.runtime.status().status).toBe("interrupted");
    const cut = s.runtime.ledger.read(0).find((e) => e.kind === "model.completed");
    expect(cut?.data).toMatchObject({ step: 1, toolCalls: [] });
    expect((cut?.data as { text: string }).text.length).toBeLessThan("Let me add that.".length);
    await s.runtime.resume({ mode: "continue" });
    await s.drain();
    const events = s.runtime.ledger.read(0);
    expect(events.at(-1)).toMatchObject({
      kind: "run.completed",
      data: { output: "The answer is 5." },
    });
    expect(kinds(events, "tool.completed").map((e) => e.data)).toMatchObject([{ result: 5 }]);
  });

  it("cut in its final answer: it answers from the tool's result, without calling it again", async () => {
    const { s } = stoppedAt(2);
    await s.runtime.start({ message: "What is 2+3?" });
    await s.drain();
    expect(s.runtime.status().status).toBe("interrupted");
    await s.runtime.resume({ mode: "continue" });
    await s.drain();
    const events = s.runtime.ledger.read(0);
    expect(events.at(-1)).toMatchObject({
      kind: "run.completed",
      data: { output: "The answer is 5." },
    });
    expect(kinds(events, "tool.started")).toHaveLength(1);
  });
});
