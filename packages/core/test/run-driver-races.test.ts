import { describe, expect, it } from "vitest";
import * as z from "zod";
import { defineAgent, defineTool, latestRun, scriptedModel } from "../src/index.ts";
import { createTestSession, type TestSession } from "../src/testing/index.ts";

const sent: { amount: number; aborted: boolean }[] = [];

const wire = defineTool({
  name: "wire",
  description: "Sends money: irreversible, no approval.",
  input: z.object({ amount: z.number() }),
  effect: "irreversible",
  execute: ({ amount }, ctx) => {
    sent.push({ amount, aborted: ctx.signal.aborted });
    return { sent: amount };
  },
});

const payer = defineAgent({
  name: "payer",
  system: "",
  tools: [wire],
  model: scriptedModel({
    turns: [{ toolCalls: [{ name: "wire", args: { amount: 5 } }] }, { text: "Sent." }],
  }),
});

describe("run driver: control requests that land between a decision and its effect", () => {
  it("an abort during the tool step's durability barrier starts no irreversible tool", async () => {
    sent.length = 0;
    let abortInBarrier = false;
    let s: TestSession | undefined;
    s = createTestSession(payer, {
      durable: async () => {
        if (!abortInBarrier) return;
        abortInBarrier = false;
        await s?.runtime.abort("operator pulled the plug");
      },
    });
    await s.runtime.start({ message: "pay 5" });
    // Step 1's model call records the wire call; the tool step's barrier then sees the abort.
    abortInBarrier = true;
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "aborted" });
    expect(sent).toEqual([]);
    const kinds = s.runtime.ledger.read(0).map((e) => e.kind);
    expect(kinds).toContain("tool.started");
    expect(kinds).not.toContain("tool.completed");
  });

  it("POST interrupt's reason reaches run.interrupted (a running run, interrupted at the next boundary)", async () => {
    const s = createTestSession(payer);
    await s.runtime.start({ message: "pay 5" });
    await s.runtime.interrupt("user pressed stop");
    await s.drain();
    const events = s.runtime.ledger.read(0);
    expect(events.find((e) => e.kind === "run.interrupt_requested")?.data).toEqual({
      reason: "user pressed stop",
    });
    expect(events.find((e) => e.kind === "run.interrupted")?.data).toEqual({
      reason: "user pressed stop",
    });
    // A later interrupt without a reason says the default, not the previous one.
    await s.runtime.resume({ mode: "continue" });
    await s.runtime.interrupt();
    await s.drain();
    const last = s.runtime.ledger.read(0).filter((e) => e.kind === "run.interrupted")[1];
    expect(last?.data).toEqual({ reason: "interrupted by request" });
  });
});
