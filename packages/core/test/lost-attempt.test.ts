/**
 * G2: a model call lost in a crash restarts as attempt + 1, and the partial text the lost
 * attempt streamed is discarded from the messages (the ledger keeps it). The final
 * `model.completed` replaces the answer's parts anyway, so this is only visible while the
 * redriven attempt streams, and after an interrupt that keeps its partial answer.
 */
import type { LanguageModelV4, LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { defineAgent, latestRun, listMessages } from "../src/index.ts";
import { createTestSession, ManualClock } from "../src/testing/index.ts";

/** Streams `texts[n]` on its nth call, then hangs until the call is aborted. */
function hangingModel(texts: readonly string[]): LanguageModelV4 {
  let calls = 0;
  return {
    specificationVersion: "v4",
    provider: "test",
    modelId: "hanging",
    supportedUrls: {},
    async doGenerate() {
      throw new Error("this model only streams");
    },
    async doStream({ abortSignal }) {
      const text = texts[calls++] ?? "";
      const parts: LanguageModelV4StreamPart[] = [
        { type: "stream-start", warnings: [] },
        { type: "text-start", id: "t0" },
        { type: "text-delta", id: "t0", delta: text },
      ];
      const stream = new ReadableStream<LanguageModelV4StreamPart>({
        async pull(controller) {
          const next = parts.shift();
          if (next) return controller.enqueue(next);
          await new Promise<void>((resolve) => {
            if (abortSignal?.aborted) resolve();
            abortSignal?.addEventListener("abort", () => resolve(), { once: true });
          });
          controller.error(abortSignal?.reason ?? new Error("aborted"));
        },
      });
      return { stream };
    },
  };
}

/** Yields to the event loop until `ready` holds. */
async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !ready(); i++) await new Promise((r) => setImmediate(r));
  expect(ready()).toBe(true);
}

const answerText = (sql: Parameters<typeof listMessages>[0]) =>
  listMessages(sql, 0, 50)
    .filter((m) => m.role === "assistant")
    .flatMap((m) => m.parts)
    .map((p) => (p.type === "text" ? p.text : ""))
    .join("");

describe("a model call lost mid-stream", () => {
  it("its partial text leaves the messages; the redriven attempt's text alone shows, also once interrupted", async () => {
    const agent = defineAgent({
      name: "talker",
      system: "",
      model: hangingModel(["LOST PARTIAL ", "fresh "]),
    });
    const coalesce = { maxDelayMs: 0, maxChars: 1 };
    const first = createTestSession(agent, { coalesce });
    await first.runtime.start({ message: "hi" });
    // The first instance streams, then dies mid-answer (it never runs again).
    void first.runtime.alarm();
    const deltas = () =>
      first.runtime.ledger
        .read(0)
        .filter((e) => e.kind === "model.delta")
        .map((e) => (e.data as { text: string }).text);
    await until(() => deltas().length === 1);
    expect(answerText(first.sql)).toBe("LOST PARTIAL ");

    // A fresh instance, after the dead one's lease ran out, redrives the step as attempt 2.
    const fresh = first.restart({ clock: new ManualClock(first.clock.now() + 60_000) });
    void fresh.runtime.alarm();
    await until(() => deltas().length === 2);
    const attempts = fresh.runtime.ledger
      .read(0)
      .filter((e) => e.kind === "step.started")
      .map((e) => (e.data as { attempt: number }).attempt);
    expect(attempts).toEqual([1, 2]);
    expect(answerText(fresh.sql)).toBe("fresh ");

    await fresh.runtime.interrupt("stop");
    await fresh.drain();
    expect(latestRun(fresh.sql)?.status).toBe("interrupted");
    expect(answerText(fresh.sql)).toBe("fresh ");
    // The ledger keeps what the lost attempt streamed.
    expect(deltas()).toEqual(["LOST PARTIAL ", "fresh "]);
  });
});
