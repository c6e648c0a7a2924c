import { env } from "cloudflare:test";
import { type ResumeBody, runInstanceId, type WireEvent } from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import { agentRuns, type RunHandle } from "../src/index.ts";
import { probe } from "./fixture/probe.ts";
import { type SessionHandle, session } from "./support/session.ts";

declare global {
  namespace Cloudflare {
    interface Env {
      AGENT_WORKFLOW: Workflow;
    }
  }
}

/**
 * Run handles (agentRuns) on Workflow-driven runs: `execute` with `executor: "workflow"`
 * starts a run whose steps a Workflow instance performs (binding AGENT_WORKFLOW), and the
 * same handle methods follow and steer it as they do an alarm-driven run.
 */
afterEach(() => probe.reset());

const runs = agentRuns(env);

async function collect(events: AsyncIterable<WireEvent>): Promise<WireEvent[]> {
  const all: WireEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

/** The run's Workflow instance status, read back from the binding. */
async function instanceStatus(s: SessionHandle, run: RunHandle): Promise<string> {
  const id = await runInstanceId(s.agent, s.session, run.runId ?? "");
  return (await (await env.AGENT_WORKFLOW.get(id)).status()).status;
}

async function instanceReaches(s: SessionHandle, run: RunHandle, wanted: string): Promise<void> {
  const end = Date.now() + 20_000;
  let seen = "";
  while (Date.now() < end) {
    seen = await instanceStatus(s, run).catch((e: Error) => e.message);
    if (seen === wanted) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the instance of ${run.runId} is ${seen}, not ${wanted}`);
}

describe("a run handle on the Workflow executor", () => {
  it("execute({ executor: 'workflow' }): stream to the end, result, getState; the instance completes", async () => {
    const s = session("probe");
    const run = await runs.execute(
      "probe",
      { input: { message: "go" }, executor: "workflow" },
      { session: s.session },
    );
    const streamed = await collect(run.stream());
    expect(streamed[0]).toMatchObject({
      kind: "run.started",
      runId: run.runId,
      data: { executor: "workflow" },
    });
    expect(streamed.at(-1)).toMatchObject({
      kind: "run.completed",
      data: { output: "All done: one, two." },
    });
    // The handle's stream is the session's ledger, as GET .../events serves it.
    expect(streamed).toEqual(await s.events());
    expect(await run.result()).toEqual({
      status: "completed",
      runId: run.runId,
      step: 3,
      offset: streamed.at(-1)?.offset,
      output: "All done: one, two.",
    });
    expect(await run.getState()).toMatchObject({ status: "completed", runId: run.runId });
    await instanceReaches(s, run, "complete");
    // A follow-up run from the handle takes the agent's executor (alarm) unless it asks.
    const next = await run.send({ input: { message: "go" }, executor: "workflow" });
    expect(await next.result()).toMatchObject({ status: "completed", runId: next.runId });
    await instanceReaches(s, next, "complete");
  });

  it("interrupt mid-run and resume with a message: the same instance goes on; the streams piece together", async () => {
    const s = session("probe");
    probe.close("slow_echo");
    const run = await runs.execute(
      "probe",
      { input: { message: "go" }, executor: "workflow" },
      { session: s.session },
    );
    const before: WireEvent[] = [];
    for await (const event of run.stream()) {
      before.push(event);
      if (event.kind === "tool.started") break;
    }
    expect(await run.interrupt("user clicked stop")).toMatchObject({ status: "running" });
    probe.open("slow_echo");
    expect(await run.result()).toMatchObject({
      status: "interrupted",
      reason: "user clicked stop",
      runId: run.runId,
    });
    // Parked in waitForEvent, not finished: the resume wakes the same instance.
    expect(await instanceStatus(s, run)).not.toBe("complete");
    const rest = await collect(run.stream({ offset: before.at(-1)?.offset }));
    expect(rest.at(-1)?.kind).toBe("run.interrupted");
    expect(await run.canResume()).toEqual({ canResume: true });
    await run.resume({ mode: "with_message", message: "carry on" });
    expect(await run.result()).toMatchObject({ status: "completed", runId: run.runId });
    const after = await collect(run.stream({ offset: rest.at(-1)?.offset }));
    expect(after[0]).toMatchObject({ kind: "run.resumed", data: { mode: "with_message" } });
    expect([...before, ...rest, ...after]).toEqual(await s.events());
    await instanceReaches(s, run, "complete");
  });

  it("approvals through resume: result() resolves waiting, the decisions wake the instance", async () => {
    const s = session("approver");
    const run = await runs.execute(
      "approver",
      { input: { message: "pay" }, executor: "workflow" },
      { session: s.session },
    );
    const waiting = await run.result();
    expect(waiting).toMatchObject({ status: "waiting", reason: "approval", runId: run.runId });
    if (waiting.status !== "waiting") throw new Error("not waiting");
    const [a, b] = waiting.pending;
    const decisions: ResumeBody = {
      approvals: [
        { callId: a?.callId ?? "", approved: true },
        { callId: b?.callId ?? "", approved: false, reason: "too much" },
      ],
    };
    expect(await run.canResume(decisions)).toEqual({ canResume: true });
    await run.resume(decisions);
    const done = await run.result();
    expect(done).toMatchObject({ status: "completed" });
    if (done.status === "completed")
      expect(done.output).toBe('Results: [{"wired":10},"a human denied this call: too much"]');
    await instanceReaches(s, run, "complete");
  });

  it("abort: result() rejects with RunAbortedError and the waiting instance is terminated", async () => {
    const s = session("approver");
    const run = await runs.execute(
      "approver",
      { input: { message: "pay" }, executor: "workflow" },
      { session: s.session },
    );
    expect(await run.result()).toMatchObject({ status: "waiting" });
    await run.abort("operator");
    await expect(run.result()).rejects.toMatchObject({ name: "RunAbortedError" });
    await instanceReaches(s, run, "terminated");
    expect((await s.events()).at(-1)?.kind).toBe("run.aborted");
  });
});
