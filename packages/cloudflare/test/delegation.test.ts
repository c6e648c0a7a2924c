import type { LedgerEvent } from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import { probe } from "./fixture/probe.ts";
import { type SessionHandle, session } from "./support/session.ts";

/**
 * Delegated work keeps its identity, and no call waits on a session that has ended
 * (issue 18; docs/guarantees.md G11). Each case is a fault found by replaying other
 * runtimes' bug reports, with its right value.
 */
afterEach(() => probe.reset());

const ended = (e: LedgerEvent) =>
  e.kind === "run.completed" || e.kind === "run.failed" || e.kind === "run.aborted";

/** The child session a parent's call went to (its subagent.started). */
async function childOf(parent: SessionHandle, agent: string, nth = 0): Promise<SessionHandle> {
  await parent.waitFor((e) => e.kind === "subagent.started", 20_000);
  const started = (await parent.events()).filter((e) => e.kind === "subagent.started")[nth];
  if (started?.kind !== "subagent.started") throw new Error("no subagent.started");
  return session(agent, started.data.session);
}

async function toolFailure(parent: SessionHandle) {
  const failed = (await parent.events()).find((e) => e.kind === "tool.failed");
  return failed?.kind === "tool.failed" ? failed.data.error : undefined;
}

describe("every way a child session ends settles its parent's call", () => {
  it("a child interrupted while waiting for approval, then closed: the parent's call fails naming the close, and the parent completes", async () => {
    const parent = session("boss");
    expect((await parent.post("runs", { input: { message: "clerk close" } })).status).toBe(202);
    const child = await childOf(parent, "clerk");
    await child.waitFor((e) => e.kind === "run.waiting", 20_000);
    expect((await child.post("interrupt", { reason: "user pressed stop" })).status).toBe(202);
    expect((await child.post("close")).status).toBe(200);
    const end = await parent.waitFor(ended, 20_000);
    expect(end.kind).toBe("run.completed");
    const error = await toolFailure(parent);
    expect(error?.code).toBe("subagent_closed");
    expect(error?.message).toMatch(/closed .* while its run .* was interrupted/);
  });

  it("a child interrupted, then aborted: abort is accepted and the parent's call fails as aborted", async () => {
    const parent = session("boss");
    await parent.post("runs", { input: { message: "clerk abort" } });
    const child = await childOf(parent, "clerk");
    await child.waitFor((e) => e.kind === "run.waiting", 20_000);
    expect((await child.post("interrupt")).status).toBe(202);
    expect((await child.post("abort", { reason: "not needed" })).status).toBe(202);
    expect((await parent.waitFor(ended, 20_000)).kind).toBe("run.completed");
    expect(await toolFailure(parent)).toEqual({ code: "aborted", message: "not needed" });
  });

  it("a parent's abort fails its delegated call and cancels the child: the child's run ends aborted, naming the parent", async () => {
    const parent = session("boss");
    await parent.post("runs", { input: { message: "clerk cancel" } });
    const child = await childOf(parent, "clerk");
    await child.waitFor((e) => e.kind === "run.waiting", 20_000);
    expect((await parent.post("abort", { reason: "changed my mind" })).status).toBe(202);
    const childEnd = await child.waitFor(ended, 20_000);
    expect(childEnd.kind).toBe("run.aborted");
    const { reason } = childEnd.data as { reason: string };
    expect(reason).toContain(`its parent boss run ${(await parent.status()).runId}`);
    expect(reason).toContain("changed my mind");
    const kinds = (await parent.events()).map((e) => e.kind);
    expect(kinds.slice(-2)).toEqual(["tool.failed", "run.aborted"]);
    expect((await toolFailure(parent))?.code).toBe("aborted");
  });

  it("a parent's interrupt during the wait takes effect at once: its delegated call fails, the child is cancelled, and a resume goes on with the failure", async () => {
    const parent = session("boss");
    await parent.post("runs", { input: { message: "clerk cancel" } });
    const child = await childOf(parent, "clerk");
    await child.waitFor((e) => e.kind === "run.waiting", 20_000);
    await parent.waitFor((e) => e.kind === "run.waiting", 20_000);
    expect((await parent.post("interrupt", { reason: "user pressed stop" })).status).toBe(202);
    const kinds = (await parent.events()).map((e) => e.kind);
    expect(kinds.slice(-2)).toEqual(["tool.failed", "run.interrupted"]);
    expect(await toolFailure(parent)).toMatchObject({ code: "interrupted" });
    expect((await parent.status()).status).toBe("interrupted");
    const childEnd = await child.waitFor(ended, 20_000);
    expect(childEnd.kind).toBe("run.aborted");
    const { reason } = childEnd.data as { reason: string };
    expect(reason).toContain(`its parent boss run ${(await parent.status()).runId}`);
    expect(reason).toContain("was interrupted (user pressed stop)");
    // The resumed run sees the failed call (the model answers with it) and completes.
    expect((await parent.post("resume", { mode: "continue" })).status).toBe(202);
    expect((await parent.waitFor(ended, 20_000)).kind).toBe("run.completed");
    expect((await parent.events()).filter((e) => e.kind === "subagent.completed")).toEqual([]);
  });
});

describe("a resume that starts a new step settles the calls it leaves open", () => {
  it("a parent resumed with a message during the wait: its delegated call fails superseded in the resume's append, the child is cancelled, and its late answer is not taken", async () => {
    const parent = session("boss");
    await parent.post("runs", { input: { message: "clerk cancel" } });
    const child = await childOf(parent, "clerk");
    await child.waitFor((e) => e.kind === "run.waiting", 20_000);
    await parent.waitFor((e) => e.kind === "run.waiting", 20_000);
    const before = (await parent.events()).length;
    expect((await parent.post("resume", { message: "never mind" })).status).toBe(202);
    const added = (await parent.events()).slice(before).map((e) => e.kind);
    expect(added.slice(0, 2)).toEqual(["tool.failed", "run.resumed"]);
    expect(await toolFailure(parent)).toMatchObject({ code: "superseded" });
    const childEnd = await child.waitFor(ended, 20_000);
    expect(childEnd.kind).toBe("run.aborted");
    const { reason } = childEnd.data as { reason: string };
    expect(reason).toContain(`its parent boss run ${(await parent.status()).runId}`);
    expect(reason).toContain("was resumed past the call (with_message)");
    expect((await parent.waitFor(ended, 20_000)).kind).toBe("run.completed");
    // Only the left step's call: the model may delegate again in its new step.
    const ofStep1 = (await parent.events()).filter(
      (e) => "step" in (e.data as object) && (e.data as { step: number }).step === 1,
    );
    const results = ofStep1.filter((e) => e.kind === "tool.completed" || e.kind === "tool.failed");
    expect(results).toHaveLength(1);
    expect(ofStep1.filter((e) => e.kind === "subagent.completed")).toEqual([]);
  });
});

describe("a delegated call's identity includes its run, step and attempt", () => {
  it("a retried parent (from_start) gets a fresh child run for the repeated call id, and completes", async () => {
    const parent = session("boss");
    await parent.post("runs", { input: { message: "flaky note" } });
    const failed = await parent.waitFor(ended, 20_000);
    expect(failed.kind).toBe("run.failed");
    expect((await parent.post("retry", { mode: "from_start" })).status).toBe(202);
    const end = await parent.waitFor((e) => e.kind === "run.completed", 20_000);
    expect(end.data).toEqual({ output: 'Boss: ["flaky note (message 2)"]' });
    const started = (await parent.events()).filter((e) => e.kind === "subagent.started");
    expect(started.map((e) => (e.data as { callId: string }).callId)).toEqual([
      "call_0_0",
      "call_0_0",
    ]);
    const child = await childOf(parent, "scribe");
    const runs = (await child.events()).filter((e) => e.kind === "run.started");
    expect(runs).toHaveLength(2);
  });

  it("a retried Workflow call executes once with {n:2} and records {n:2}", async () => {
    const parent = session("boss");
    const message = `tally ${parent.session}`;
    await parent.post("runs", { input: { message } });
    expect((await parent.waitFor(ended, 20_000)).kind).toBe("run.failed");
    expect((await parent.post("retry", { mode: "from_start" })).status).toBe(202);
    const end = await parent.waitFor((e) => e.kind === "run.completed", 20_000);
    expect(end.data).toEqual({ output: 'Boss: [{"n":2}]' });
    expect([probe.executions("tally:1"), probe.executions("tally:2")]).toEqual([1, 1]);
    const events = await parent.events();
    const instances = events
      .filter((e) => e.kind === "workflow.started")
      .map((e) => (e.data as { instanceId: string }).instanceId);
    expect(new Set(instances).size).toBe(2);
    const results = events
      .filter((e) => e.kind === "tool.completed")
      .map((e) => (e.data as { result: unknown }).result);
    expect(results).toEqual([{ n: 1 }, { n: 2 }]);
  });
});

describe("usage is per child run", () => {
  const replyTokens = (events: LedgerEvent[]) =>
    events
      .filter((e) => e.kind === "subagent.completed")
      .map((e) => (e.data as { usage: { inputTokens: number } }).usage.inputTokens);
  const usageOf = async (parent: SessionHandle) =>
    (await (await parent.get("usage")).json()) as {
      subagents: { agent: string; inputTokens: number }[];
      rollup: { inputTokens: number };
    };

  it("two parent runs: each call has an id of its own, so each goes to a child session of its own (replies 32 and 32, sub-agent usage 64, roll-up 384)", async () => {
    const parent = session("boss");
    for (const note of ["scribe first", "scribe second"]) {
      await parent.post("runs", { input: { message: note } });
      await parent.waitFor(
        (e) => e.kind === "run.completed" && JSON.stringify(e.data).includes(note),
        20_000,
      );
    }
    const events = await parent.events();
    const started = events.filter((e) => e.kind === "subagent.started");
    // call_2_0: the second run's first model turn comes after the first run's two.
    expect(started.map((e) => (e.data as { callId: string }).callId)).toEqual([
      "call_0_0",
      "call_2_0",
    ]);
    expect(new Set(started.map((e) => (e.data as { session: string }).session)).size).toBe(2);
    expect(replyTokens(events)).toEqual([32, 32]);
    const usage = await usageOf(parent);
    expect(usage.subagents).toMatchObject([{ agent: "scribe", inputTokens: 64 }]);
    // The parent's own: prompts of 2, 4, 6 and 8 messages at 16 tokens each (320), and 64.
    expect(usage.rollup.inputTokens).toBe(384);
  });

  it("a regenerated parent run repeats its call id and reaches the same child session: replies 32 and 64 (the child's second run carries the first), sub-agent usage 96, roll-up 288", async () => {
    const parent = session("boss");
    await parent.post("runs", { input: { message: "scribe first" } });
    const first = (await parent.waitFor(ended, 20_000)).runId;
    await parent.post("runs", { input: { message: "scribe again", replaces: first } });
    await parent.waitFor(
      (e) => e.kind === "run.completed" && JSON.stringify(e.data).includes("scribe again"),
      20_000,
    );
    const events = await parent.events();
    const started = events.filter((e) => e.kind === "subagent.started");
    // The replaced run's messages left the conversation: the new run's prompt starts over.
    expect(started.map((e) => (e.data as { callId: string }).callId)).toEqual([
      "call_0_0",
      "call_0_0",
    ]);
    expect(new Set(started.map((e) => (e.data as { session: string }).session)).size).toBe(1);
    expect(replyTokens(events)).toEqual([32, 64]);
    const usage = await usageOf(parent);
    expect(usage.subagents).toMatchObject([{ agent: "scribe", inputTokens: 96 }]);
    // The parent's own: prompts of 2 and 4 messages in each run (192), and 96.
    expect(usage.rollup.inputTokens).toBe(288);
  });
});

describe("answers that are not answers, and provider refusals", () => {
  for (const kind of ["empty", "blank"]) {
    it(`an ${kind} answer every time fails the run with empty_answer (retried first, nothing stored)`, async () => {
      const s = session("mute");
      await s.post("runs", { input: { message: `${kind} please` } });
      const end = await s.waitFor(ended, 20_000);
      expect(end.kind).toBe("run.failed");
      expect((end.data as { error: { code: string } }).error.code).toBe("empty_answer");
      const events = await s.events();
      expect(events.filter((e) => e.kind === "step.started").length).toBeGreaterThan(1);
      expect(events.map((e) => e.kind)).not.toContain("model.completed");
      expect((await s.messages()).map((m) => m.role)).toEqual(["user"]);
    });
  }

  it("an empty answer followed by a real one completes with the real one", async () => {
    const s = session("mute");
    await s.post("runs", { input: { message: `once ${s.session}` } });
    const end = await s.waitFor(ended, 20_000);
    expect(end).toMatchObject({ kind: "run.completed", data: { output: "Finally, an answer." } });
  });

  it("a provider's context-length 400 fails the run with its own code and advice, not the API-key hint", async () => {
    const s = session("verbose");
    await s.post("runs", { input: { message: "a very long story" } });
    const end = await s.waitFor(ended, 20_000);
    expect(end.kind).toBe("run.failed");
    const { error } = end.data as { error: { code: string; message: string } };
    expect(error.code).toBe("model_context_length_exceeded");
    expect(error.message).toMatch(/context window/);
    expect(error.message).not.toMatch(/API key/i);
  });
});
