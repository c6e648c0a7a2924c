import { env, introspectWorkflow, runInDurableObject } from "cloudflare:test";
import { type LedgerEvent, mintSessionToken, runInstanceId } from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import { agentRuns, routeRequest } from "../src/index.ts";
import { probe } from "./fixture/probe.ts";
import { MARATHON_STEPS } from "./fixture/workflow-run-agents.ts";
import { BASE, type SessionHandle, session, transcript } from "./support/session.ts";
import { until } from "./support/until.ts";

declare global {
  namespace Cloudflare {
    interface Env {
      AGENT_WORKFLOW: Workflow;
    }
  }
}

/**
 * Whole runs on the Workflow executor (createAgentWorkflow, binding AGENT_WORKFLOW) in real
 * workerd with local Workflows: the session object decides and commits, the instance performs
 * one step.do per model call and per tool call and parks in waitForEvent while the run waits.
 */

let introspector: Awaited<ReturnType<typeof introspectWorkflow>> | undefined;

afterEach(async () => {
  probe.reset();
  await introspector?.dispose();
  introspector = undefined;
});

const ended = (e: LedgerEvent) =>
  e.kind === "run.completed" || e.kind === "run.failed" || e.kind === "run.aborted";

/** The ledger without ids, times, deltas and repeated step starts; a step's tool events in callId order. */
function comparable(events: readonly LedgerEvent[]): unknown[] {
  const kept = transcript(
    events.filter(
      (e) => e.kind !== "model.delta" && !(e.kind === "step.started" && e.data.attempt > 1),
    ),
  ).map((e) => {
    const event = e as { kind: string; data: Record<string, unknown> };
    return event.kind === "run.started"
      ? { ...event, data: { ...event.data, executor: undefined } }
      : event;
  });
  const out: typeof kept = [];
  for (let i = 0; i < kept.length; ) {
    let j = i;
    while (j < kept.length && kept[j]?.kind.startsWith("tool.")) j++;
    if (j === i) {
      out.push(kept[i] as (typeof kept)[number]);
      i++;
      continue;
    }
    const rank = (kind: string) => (kind === "tool.started" ? 0 : 1);
    const callId = (e: (typeof kept)[number]) => String(e.data.callId);
    out.push(
      ...kept
        .slice(i, j)
        .sort((a, b) =>
          callId(a) === callId(b) ? rank(a.kind) - rank(b.kind) : callId(a) < callId(b) ? -1 : 1,
        ),
    );
    i = j;
  }
  return out;
}

async function instanceOf(s: SessionHandle, runId: string): Promise<WorkflowInstance> {
  return env.AGENT_WORKFLOW.get(await runInstanceId(s.agent, s.session, runId));
}

async function statusOf(s: SessionHandle, runId: string): Promise<string> {
  return (await (await instanceOf(s, runId)).status()).status;
}

/** Waits (up to 20 s) until the Workflow instance of run `runId` has status `wanted`. */
async function instanceReaches(s: SessionHandle, runId: string, wanted: string): Promise<void> {
  await until(
    () => statusOf(s, runId),
    (status) => status === wanted,
    20_000,
  );
}

async function start(s: SessionHandle, message: string, executor?: "workflow" | "alarm") {
  const response = await s.post("runs", { input: { message }, ...(executor ? { executor } : {}) });
  expect(response.status).toBe(202);
  return ((await response.json()) as { runId: string }).runId;
}

function executions(events: readonly LedgerEvent[], tool: string): number {
  const started = events.find((e) => e.kind === "tool.started" && e.data.name === tool);
  const key = (started?.data as { idempotencyKey: string } | undefined)?.idempotencyKey;
  return probe.executions(`effect:${tool}:${key}`);
}

/** The ledger of the same run ("go") on the alarm executor, ended: what a Workflow run must match. */
async function goldenRun(): Promise<LedgerEvent[]> {
  const alarm = session("faulty");
  await start(alarm, "go");
  await alarm.waitFor(ended, 30_000);
  return alarm.events();
}

/** A run that completed with the golden ledger (goldenRun), its irreversible tool run once. */
function expectGolden(events: readonly LedgerEvent[], golden: readonly LedgerEvent[]): void {
  expect(events.at(-1)?.kind).toBe("run.completed");
  expect(comparable(events)).toEqual(comparable(golden));
  expect(executions(events, "charge")).toBe(1);
}

/** No tool call completed twice, and no seq is missing or repeated. */
function expectNoDuplicates(events: readonly LedgerEvent[]): void {
  const completed = events
    .filter((e) => e.kind === "tool.completed")
    .map((e) => `${e.data.step}/${e.data.callId}`);
  expect(new Set(completed).size).toBe(completed.length);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
}

async function crashObject(s: SessionHandle, why: string): Promise<void> {
  await runInDurableObject(s.stub(), (_instance, state) =>
    state.abort(`injected crash: ${why}`),
  ).catch(() => undefined);
}

describe("whole runs on the Workflow executor", () => {
  it("the golden transcript: the same ledger on both executors, and the instance completes", async () => {
    const golden = await goldenRun();
    expect(golden.at(-1)?.kind).toBe("run.completed");

    const s = session("faulty");
    const runId = await start(s, "go", "workflow");
    await s.waitFor(ended, 30_000);
    const events = await s.events();
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(events[0]).toMatchObject({ kind: "run.started", data: { executor: "workflow" } });
    expect(golden[0]?.data).not.toHaveProperty("executor");
    expect(comparable(events)).toEqual(comparable(golden));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    await instanceReaches(s, runId, "complete");
    expect(executions(events, "charge")).toBe(1);
  });

  it("a failed step.do is retried by the platform: the same ledger, each tool at most once", async () => {
    introspector = await introspectWorkflow(env.AGENT_WORKFLOW);
    await introspector.modifyAll(async (m) => {
      await m.disableRetryDelays();
      await m.mockStepError({ name: "model 1" }, new Error("injected: model step lost"), 2);
      await m.mockStepError({ name: "tool 1 call_0_2" }, new Error("injected: tool step lost"), 1);
    });
    const golden = await goldenRun();
    const s = session("faulty");
    await start(s, "go", "workflow");
    await s.waitFor(ended, 30_000);
    expectGolden(await s.events(), golden);
  });

  it("a step whose report is lost is replayed: the session acknowledges it and appends nothing twice", async () => {
    const golden = await goldenRun();
    const s = session("faulty");
    // The 3rd step of this session (a tool call of step 1) is served and committed, then its reply is lost.
    probe.throwSessionAt(s.session, "after-workflow-call", 3);
    await start(s, "go", "workflow");
    await s.waitFor(ended, 30_000);
    const events = await s.events();
    expect(probe.executions("fault:after-workflow-call")).toBe(1);
    expectGolden(events, golden);
    const completed = events.filter((e) => e.kind === "tool.completed").map((e) => e.data.callId);
    expect(new Set(completed).size).toBe(completed.length);
  });

  for (const point of ["mid-stream", "after-tool-started", "before-tool-commit"] as const) {
    it(`the session object aborted mid-run (${point}): the run finishes, irreversible at most once`, async () => {
      const s = session("faulty");
      probe.crashSessionAt(s.session, point, 3);
      await start(s, "go", "workflow");
      let last = await s.waitFor(
        (e) => ended(e) || (e.kind === "run.waiting" && e.data.reason === "outcome_unknown"),
        30_000,
      );

      expect(probe.executions(`fault:${point}`)).toBe(1);
      let events = await s.events();
      if (last.kind === "run.waiting") {
        // Only the irreversible call may be left unknown; a human settles it.
        const unknown = events.filter((e) => e.kind === "tool.outcome_unknown");
        expect(unknown.map((e) => e.data.name)).toEqual(["charge"]);
        const ran = executions(events, "charge");
        expect(ran).toBeLessThanOrEqual(1);
        const callId = (unknown[0]?.data as { callId: string } | undefined)?.callId;
        const decision =
          ran === 1 ? { approved: true, result: { charged: 3 } } : { approved: true };
        expect((await s.post("resume", { approvals: [{ callId, ...decision }] })).status).toBe(202);
        last = await s.waitFor(ended, 30_000);
        events = await s.events();
      }
      expect(last.kind).toBe("run.completed");
      expect(executions(events, "charge")).toBe(1);
      expectNoDuplicates(events);
    });
  }

  it("an instance restarted mid-run replays and finishes the run: no lost or duplicated events", async () => {
    const golden = await goldenRun();
    const s = session("faulty");
    probe.delaySessionAt(s.session, "before-tool-commit", 300);
    const runId = await start(s, "go", "workflow");
    await s.waitFor((e) => e.kind === "tool.started", 30_000);
    await (await instanceOf(s, runId)).restart();
    await s.waitFor(ended, 30_000);
    expectGolden(await s.events(), golden);
  });

  it("an instance that stops mid-run while the run still runs is restarted by the session's check", async () => {
    const golden = await goldenRun();
    const s = session("faulty");
    probe.delaySessionAt(s.session, "before-tool-commit", 300);
    const runId = await start(s, "go", "workflow");
    await s.waitFor((e) => e.kind === "tool.started", 30_000);
    // The instance ends without the session knowing (as a dormant local instance never
    // reports again): nothing but the session's progress check can drive the run now.
    await (await instanceOf(s, runId)).terminate();
    expect(await statusOf(s, runId)).toBe("terminated");
    const last = await s.waitFor(
      (e) => ended(e) || (e.kind === "run.waiting" && e.data.reason === "outcome_unknown"),
      30_000,
    );
    const events = await s.events();
    if (last.kind === "run.waiting") {
      // Terminated inside the irreversible call: only it may be left unknown, never run twice.
      const unknown = events.filter((e) => e.kind === "tool.outcome_unknown");
      expect(unknown.map((e) => e.data.name)).toEqual(["charge"]);
    } else {
      expect(last.kind).toBe("run.completed");
      expect(comparable(events)).toEqual(comparable(golden));
    }
    expect(executions(events, "charge")).toBeLessThanOrEqual(1);
    expectNoDuplicates(events);
  });

  it("approve after a restart of the session object: the parked instance wakes and finishes", async () => {
    const s = session("approver");
    const runId = await start(s, "pay", "workflow");
    await s.waitFor((e) => e.kind === "run.waiting", 20_000);
    await crashObject(s, "before the approval");
    const asked = (await s.events()).filter((e) => e.kind === "approval.requested");
    expect(asked).toHaveLength(2);
    const approvals = asked.map((e) => ({ callId: e.data.callId, approved: true }));
    expect((await s.post("resume", { approvals })).status).toBe(202);
    const end = await s.waitFor(ended, 20_000);
    expect(end.kind).toBe("run.completed");
    await instanceReaches(s, runId, "complete");
  });

  it("interrupt mid-answer keeps the partial answer; resume with a message answers in the same instance", async () => {
    const s = session("drawl");
    const runId = await start(s, "tell me everything");
    await s.waitFor((e) => e.kind === "model.delta", 20_000);
    expect((await s.post("interrupt", { reason: "user pressed stop" })).status).toBe(202);
    await s.waitFor((e) => e.kind === "run.interrupted", 20_000);
    const partial = (await s.events()).find((e) => e.kind === "model.completed");
    expect(String((partial?.data as { text?: string } | undefined)?.text).length).toBeLessThan(
      6 * 47,
    );
    const resumed = await s.post("resume", { mode: "with_message", message: "be brief" });
    expect(resumed.status).toBe(202);
    const end = await s.waitFor(ended, 20_000);
    expect(end).toMatchObject({ kind: "run.completed", data: { output: "Brief." } });
    await instanceReaches(s, runId, "complete");
  });

  it("abort terminates the instance (its status read back)", async () => {
    const s = session("approver");
    const runId = await start(s, "pay", "workflow");
    await s.waitFor((e) => e.kind === "run.waiting", 20_000);
    expect((await s.post("abort", { reason: "operator" })).status).toBe(202);
    await instanceReaches(s, runId, "terminated");
    expect((await s.events()).at(-1)?.kind).toBe("run.aborted");
  });

  it("a sub-agent from a Workflow run: the parent parks in waitForEvent and the child's reply wakes it", async () => {
    const s = session("lead");
    const runId = await start(s, "Research otters and beavers", "workflow");
    const end = await s.waitFor(ended, 30_000);
    expect(end.kind).toBe("run.completed");
    const events = await s.events();
    expect(events.find((e) => e.kind === "run.waiting")?.data).toEqual({ reason: "subagent" });
    expect(JSON.stringify(end.data)).toContain("Findings about otters");
    await instanceReaches(s, runId, "complete");
  });

  it('an executor: "workflow" tool in a Workflow run runs as a step of the same instance', async () => {
    const tools = await introspectWorkflow(env.TOOL_WORKFLOW);
    try {
      const s = session("workflower");
      const runId = await start(s, "crunch 21", "workflow");
      const end = await s.waitFor(ended, 30_000);
      expect(end).toMatchObject({
        kind: "run.completed",
        data: { output: 'Answer: [{"total":42}]' },
      });
      const events = await s.events();
      const kinds = events.map((e) => e.kind);
      expect(kinds).not.toContain("workflow.started");
      expect(kinds).not.toContain("run.waiting");
      const started = events.find((e) => e.kind === "tool.started");
      const key = (started?.data as { idempotencyKey?: string } | undefined)?.idempotencyKey;
      expect(probe.executions(`crunch:${key}`)).toBe(1);
      // No tool instance of its own: the run's instance ran it.
      expect(await tools.get()).toHaveLength(0);
      await instanceReaches(s, runId, "complete");
    } finally {
      await tools.dispose();
    }
  });

  it("a run handle (agentRuns) drives and follows a Workflow run as it does an alarm one", async () => {
    const runs = agentRuns(env);
    const s = session("approver");
    const run = await runs.execute(
      "approver",
      { input: { message: "pay" }, executor: "workflow" },
      { session: s.session },
    );
    await s.waitFor((e) => e.kind === "run.waiting", 20_000);
    const asked = (await s.events()).filter((e) => e.kind === "approval.requested");
    await run.resume({ approvals: asked.map((e) => ({ callId: e.data.callId, approved: true })) });
    const result = await run.result();
    expect(result).toMatchObject({ status: "completed", runId: run.runId });
    const streamed = [];
    for await (const event of run.stream({ offset: "-1" })) streamed.push(event);
    expect(streamed).toEqual(await s.events());
    expect(streamed[0]).toMatchObject({ kind: "run.started", data: { executor: "workflow" } });
    await instanceReaches(s, String(run.runId), "complete");
  });

  it("a Workflow start on a server without the binding is refused with 400 and writes nothing", async () => {
    // The sharded fixture server names a Workflows binding that is not bound.
    const name = `nowf${Date.now()}`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "indexed", session: name });
    const call = (path: string, body?: unknown) =>
      routeRequest(
        new Request(`${BASE}/agents/indexed/${name}/${path}`, {
          method: body === undefined ? "GET" : "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
        { ...env, AGENTS: env.SHARDED },
      );
    const refused = await call("runs", { input: { message: "ping" }, executor: "workflow" });
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("workflows_unavailable");
    expect(body.error.message).toContain("NO_AGENT_WORKFLOW");
    expect(body.error.message).toContain("createAgentWorkflow");
    const events = await call("events?offset=-1");
    expect(events.status).toBe(200);
    expect(await events.json()).toEqual([]);
  });

  it("the session object refuses a Workflow call for a session or run that does not exist", async () => {
    const s = session("faulty");
    await start(s, "go");
    await s.waitFor(ended, 30_000);
    const stub = s.stub() as unknown as {
      agentWorkflowCall(
        params: unknown,
        call: unknown,
      ): Promise<{ ok: boolean; refused?: { status: number } }>;
    };
    const other = await stub.agentWorkflowCall(
      { agent: "faulty", session: "someone-else", runId: "run_x" },
      { type: "decide" },
    );
    expect(other).toMatchObject({ ok: false, refused: { status: 404 } });
    const alarmRun = (await s.status()).runId;
    const notWorkflow = await stub.agentWorkflowCall(
      { agent: "faulty", session: s.session, runId: alarmRun },
      { type: "model", step: 1 },
    );
    expect(notWorkflow).toMatchObject({ ok: false, refused: { status: 404 } });
    const before = (await s.events()).length;
    expect((await s.events()).length).toBe(before);
  });

  it(`a run of ${MARATHON_STEPS} steps completes on the Workflow executor and readers see all of it`, async () => {
    const s = session("marathon");
    await start(s, "run");
    const end = await s.waitFor(ended, 240_000);
    expect(end).toMatchObject({
      kind: "run.completed",
      data: { output: `Done after ${MARATHON_STEPS} steps.` },
    });
    const events = await s.events();
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.kind === "step.completed")).toHaveLength(MARATHON_STEPS + 1);
    expect(events.filter((e) => e.kind === "tool.completed")).toHaveLength(MARATHON_STEPS);
  }, 240_000);
});
