import type { LanguageModelV4, LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { defineAgent, defineTrigger, latestRun, scriptedModel } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";

/** Lets every pending promise callback run (the manual clock moves nothing by itself). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/** A provider that accepts the call and never answers, ignoring its abort signal. */
const hungModel: LanguageModelV4 = {
  ...scriptedModel(),
  doStream: () => new Promise(() => undefined),
};

/** A provider that sends one text delta, then goes quiet forever. */
const stallingModel: LanguageModelV4 = {
  ...scriptedModel(),
  doStream: async () => ({
    stream: new ReadableStream<LanguageModelV4StreamPart>({
      start(c) {
        c.enqueue({ type: "text-start", id: "t" });
        c.enqueue({ type: "text-delta", id: "t", delta: "Let me" });
      },
    }),
  }),
};

const fired: number[] = [];
const tick = defineTrigger({
  kind: "tick",
  payload: z.object({}),
  run: () => {
    fired.push(1);
  },
});

const kinds = (s: ReturnType<typeof createTestSession>) =>
  s.runtime.ledger.read(0, 1000).map((e) => e.kind);

describe("no model call waits forever", () => {
  it("a hung stream is aborted at its first-token timeout, retried, then fails the run, while a schedule on the session fires on time", async () => {
    fired.length = 0;
    const agent = defineAgent({
      name: "hung",
      system: "",
      model: hungModel,
      modelTimeouts: { firstTokenMs: 1_000 },
    });
    const s = createTestSession(agent, {
      appTriggers: [tick],
      pump: { backoffBaseMs: 100, maxAttempts: 2 },
    });
    await s.runtime.start({ message: "hello" });
    await s.runtime.schedule("tick", {}, { delayMs: 300 });
    const pass = s.drain();
    await settle();
    expect(kinds(s)).toContain("step.started");

    s.clock.advance(300);
    await settle();
    // The schedule ran at its time although the run's model call is still hanging.
    expect(fired).toEqual([1]);
    expect(latestRun(s.sql)?.status).toBe("running");

    s.clock.advance(700);
    await settle();
    await pass;
    expect(latestRun(s.sql)?.status).toBe("running");
    expect(s.runtime.work.get("run:run_1")?.lastError).toMatch(/no first token within 1000 ms/);

    s.clock.advance(100);
    const retry = s.drain();
    await settle();
    s.clock.advance(1_000);
    await settle();
    await retry;
    expect(latestRun(s.sql)).toMatchObject({
      status: "failed",
      error: { code: "model_timeout" },
    });
    expect(kinds(s).filter((k) => k === "step.started")).toHaveLength(2);
  });

  it("a stream that goes quiet mid-answer is aborted at its idle timeout", async () => {
    const agent = defineAgent({
      name: "stalls",
      system: "",
      model: stallingModel,
      modelTimeouts: { firstTokenMs: 5_000, idleMs: 200 },
    });
    const s = createTestSession(agent, { pump: { maxAttempts: 1 } });
    await s.runtime.start({ message: "hello" });
    const pass = s.drain();
    await settle();
    s.clock.advance(200);
    await settle();
    await pass;
    expect(latestRun(s.sql)).toMatchObject({
      status: "failed",
      error: { code: "model_timeout", message: expect.stringMatching(/went quiet for 200 ms/) },
    });
  });

  it("refuses a timeout that is not a positive number", () => {
    expect(() =>
      defineAgent({ name: "x", system: "", model: hungModel, modelTimeouts: { idleMs: 0 } }),
    ).toThrow(/modelTimeouts.idleMs must be a positive number/);
  });
});
