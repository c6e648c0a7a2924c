/**
 * A reviewer's attack on the prompt cache's idleness rule (RunDriver `#settle`): a run that no
 * step will follow gives its cache to the budget, whatever stopped it. Here the run is aborted
 * between two actions, while no call of it is in flight: its step row is cancelled in the
 * abort's append, so no decision of it ever runs again to give the cache back.
 */
import type { LanguageModelV4 } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { IdlePromptCaches } from "../src/agent/idle-prompt-caches.ts";
import { defineAgent, defineTool, latestRun, scriptedModel } from "../src/index.ts";
import { createTestSession, type TestSession } from "../src/testing/index.ts";
import { sessionWorkflows } from "./fixtures.ts";
import { ADDER_SYSTEM, isFreshPrompt } from "./run-support.ts";

function harness(executor?: "workflow") {
  const idle = new IdlePromptCaches(1_000_000);
  const checked = { mismatches: 0, calls: 0 };
  let s: TestSession | undefined;
  const inner = scriptedModel({
    rules: [
      ({ turn, toolResults }) =>
        turn > 0
          ? { text: `The answer is ${toolResults[0]?.output}.` }
          : { text: "Adding.", toolCalls: [{ name: "tick", args: { a: 2, b: 3 } }] },
    ],
  });
  const model: LanguageModelV4 = {
    ...inner,
    async doStream(call) {
      if (s) {
        checked.calls++;
        if (!isFreshPrompt(s, call.prompt)) checked.mismatches++;
      }
      return inner.doStream(call);
    },
  };
  const tick = defineTool({
    name: "tick",
    description: "Adds two numbers, slowly: the alarm's pass budget is spent after it.",
    input: z.object({ a: z.number(), b: z.number() }),
    effect: "pure",
    execute: ({ a, b }) => {
      (s as TestSession).clock.advance(60_000);
      return a + b;
    },
  });
  const flows = sessionWorkflows(
    () => s as TestSession,
    async () => ({ type: "completed", result: 0 }),
  );
  const agent = defineAgent({
    name: "adder",
    system: ADDER_SYSTEM,
    tools: [tick],
    ...(executor ? { executor } : {}),
    model,
  });
  s = createTestSession(agent, { idlePromptCaches: idle, agentWorkflows: flows });
  return { s, idle, flows, checked };
}

describe("a run aborted between two actions, no call in flight", () => {
  it("alarm: aborted after a pass whose budget ran out with the run going on, its cache goes to the budget", async () => {
    const { s, idle, checked } = harness();
    await s.runtime.start({ message: `add ${"x".repeat(3_000)}` });
    // One pass: the model call, then the tool step, after which the pass's budget is spent;
    // the run's row is released for the next pass, due now.
    await s.runtime.alarm();
    expect(latestRun(s.sql)?.status).toBe("running");
    expect(s.runtime.ledger.read(0).some((e) => e.kind === "tool.completed")).toBe(true);
    expect(idle.count).toBe(0);
    await s.runtime.abort("the user left");
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("aborted");
    // No step of the run follows: its conversation is idle, and held by the budget.
    expect(idle.count).toBe(1);
    expect(idle.bytes).toBeGreaterThan(3_000);
    // The next run starts warm and exact.
    await s.runtime.start({ message: "again" });
    for (let i = 0; i < 5; i++) {
      await s.drain();
      s.clock.advance(120_000);
    }
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(checked.mismatches).toBe(0);
    expect(idle.count).toBe(1);
  });

  it("Workflow: aborted after its decision, before the instance's next model step, its cache goes to the budget", async () => {
    const { s, idle, flows, checked } = harness("workflow");
    let aborted = false;
    flows.beforeStep("model 2", async () => {
      if (aborted) return;
      aborted = true;
      // Step 1 (model call, tool) is done and the decision answered `model`: the cache is in
      // use. The run is aborted now, and its instance terminated before the step reaches the
      // session object.
      expect(idle.count).toBe(0);
      await s.runtime.abort("the user left");
      await s.drain();
    });
    await s.runtime.start({ message: `add ${"x".repeat(3_000)}` });
    for (let i = 0; i < 5; i++) {
      await s.drain();
      await flows.resting();
      s.clock.advance(120_000);
    }
    expect(aborted).toBe(true);
    expect(latestRun(s.sql)?.status).toBe("aborted");
    expect(checked.calls).toBe(1);
    expect([...flows.instances.values()][0]?.status).toBe("terminated");
    expect(idle.count).toBe(1);
    expect(idle.bytes).toBeGreaterThan(3_000);
  });
});
