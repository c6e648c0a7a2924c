import { describe, expect, it } from "vitest";
import * as z from "zod";
import { defineAgent, defineTool, latestRun, RetryableError, scriptedModel } from "../src/index.ts";
import { createTestSession, type TestSession } from "../src/testing/index.ts";
import { sessionWorkflows, settleDue } from "./fixtures.ts";

/**
 * A new session object makes its Workflow checks due at once (workflow-run/instances.ts,
 * invariant 5). docs/api.md ("one wake per running run per start of the object") and
 * architecture.md (a waiting run is woken only by what ends its wait): a run waiting for an
 * approval keeps the progress check it left while it ran, and a new object must not wake its
 * parked instance with it.
 */
const charge = defineTool({
  name: "charge",
  description: "irreversible",
  input: z.object({ n: z.number() }),
  effect: "irreversible",
  needsApproval: true,
  execute: ({ n }) => ({ charged: n }),
});

const guarded = defineAgent({
  name: "guarded",
  system: "",
  executor: "workflow",
  tools: [charge],
  model: scriptedModel({
    turns: [{ toolCalls: [{ name: "charge", args: { n: 7 } }] }, { text: "Charged." }],
  }),
});

describe("a new object and a Workflow run waiting for approval", () => {
  it("does not wake the parked instance of a waiting run (docs: one wake per running run)", async () => {
    let s: TestSession;
    const flows = sessionWorkflows(() => s);
    const wakes: string[] = [];
    const wake = flows.wake.bind(flows);
    flows.wake = async (id, params) => {
      wakes.push(id);
      return wake(id, params);
    };
    s = createTestSession(guarded, { agentWorkflows: flows, singleInstance: true });
    await s.runtime.start({ message: "charge 7" });
    await settleDue(() => s, flows);
    expect(latestRun(s.sql)).toMatchObject({ status: "waiting", waitingReason: "approval" });
    const before = wakes.length;
    const leftover = s.runtime.work.list().map((w) => w.kind);
    s = s.restart();
    await new Promise((settle) => setTimeout(settle, 20));
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "waiting", waitingReason: "approval" });
    expect(leftover).toContain("run.workflow");
    expect(wakes.length - before).toBe(0);
  });
});

/**
 * `dueNow` leaves a row the pump released to retry after a backoff or a `RetryableError`'s
 * `retryAfterMs` (pump invariant 6): were it moved to now, each start of the object would spend
 * an attempt at once, and five starts within the wait would fail a run the Workflows binding
 * asked to retry in 10 minutes.
 */
describe("a new object and a run.workflow retry waiting out its Retry-After", () => {
  it("keeps the retry's wait (the run is not failed by restarts alone)", async () => {
    let s: TestSession;
    const flows = sessionWorkflows(() => s);
    let calls = 0;
    flows.wake = async () => {
      calls++;
      throw new RetryableError("workflows_busy", "rate limited", { retryAfterMs: 600_000 });
    };
    const agent = defineAgent({
      name: "wf",
      system: "",
      executor: "workflow",
      model: scriptedModel({ turns: [{ text: "hi" }] }),
    });
    s = createTestSession(agent, { agentWorkflows: flows, singleInstance: true });
    await s.runtime.start({ message: "go" });
    await s.drain();
    expect(calls).toBe(1);
    for (let i = 0; i < 5; i++) {
      s = s.restart();
      await new Promise((settle) => setTimeout(settle, 20));
      await s.drain();
    }
    expect(calls).toBe(1);
    expect(latestRun(s.sql)?.status).toBe("running");
  });
});
