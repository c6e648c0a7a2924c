import type { LanguageModelV4, LanguageModelV4Prompt } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { defineAgent, scriptedModel } from "../src/index.ts";
import type { LedgerEvent } from "../src/ledger/events.ts";
import { createTestSession, type TestSession } from "../src/testing/index.ts";
import { calculator, mathAgent } from "./fixtures.ts";

/**
 * The scripted model on the real session runtime. First the demo's flow: the user presses stop
 * while the answer streams (`interrupt`: the partial text is kept as the step's assistant
 * message), then resumes the run with `continue`; the model must read that prompt for what it
 * is, an answer cut short, not a finished tool round. Then its tool call ids over many runs.
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
    const partial = (cut?.data as { text?: string } | undefined)?.text ?? "";
    expect(partial.length).toBeLessThan("Let me add that.".length);
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

/** Each model call's prompt (a copy, as it was then) and the tool call ids it answered with. */
function recorded(model: LanguageModelV4) {
  const calls: { prompt: LanguageModelV4Prompt; ids: string[] }[] = [];
  const recorder: LanguageModelV4 = {
    ...model,
    async doStream(options) {
      const call = { prompt: [...options.prompt], ids: [] as string[] };
      calls.push(call);
      const { stream } = await model.doStream(options);
      const tee = new TransformStream({
        transform(part, controller) {
          if (part.type === "tool-call") call.ids.push(part.toolCallId);
          controller.enqueue(part);
        },
      });
      return { stream: stream.pipeThrough(tee) };
    },
  };
  return { calls, recorder };
}

const callIds = (s: TestSession) =>
  s.runtime.ledger
    .read(0)
    .flatMap((e) => (e.kind === "model.completed" ? e.data.toolCalls.map((c) => c.callId) : []));

describe("the scripted model's tool call ids on the session runtime", () => {
  it("over many runs, a regenerate and an interrupted answer: each call's ids count the assistant turns of its prompt, as before", async () => {
    const { calls, recorder } = recorded(mathAgent.model as LanguageModelV4);
    const s = createTestSession(defineAgent({ ...mathAgent, model: recorder }));
    for (let run = 0; run < 30; run++) {
      const regenerate = run % 10 === 9;
      const replaces = regenerate ? s.runtime.status().runId : undefined;
      await s.runtime.start({
        message: `What is 2+3? (${run})`,
        ...(replaces ? { replaces } : {}),
      });
      if (run % 7 === 3) {
        await s.runtime.interrupt("stop");
        await s.drain();
        await s.runtime.resume({ mode: "continue" });
      }
      await s.drain();
      expect(s.runtime.status().status).toBe("completed");
    }
    expect(calls.length).toBeGreaterThanOrEqual(60);
    for (const { prompt, ids } of calls) {
      const n = prompt.filter((m) => m.role === "assistant").length;
      expect(ids).toEqual(ids.map((_, i) => `call_${n}_${i}`));
    }
    // A regenerated turn may reuse the ids of the turn it replaced (no longer in the prompt).
  });

  it("after compactions, the ids go on from the kept tool call: none repeats in the session", async () => {
    const s = createTestSession(
      defineAgent({
        ...mathAgent,
        context: { keepMessages: 3, compactAfterMessages: 8, summarize: async () => "Sums." },
      }),
    );
    for (let run = 0; run < 12; run++) {
      await s.runtime.start({ message: `What is 2+3? (${run})` });
      await s.drain();
      expect(s.runtime.status().status).toBe("completed");
    }
    expect(s.runtime.ledger.read(0).some((e) => e.kind === "context.compacted")).toBe(true);
    const ids = callIds(s);
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
  });
});
