import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  type AgentDefinition,
  defineAgent,
  defineTool,
  type FaultInjector,
  IdlePromptCaches,
  type LedgerEvent,
  latestRun,
  runInstanceId,
  type SessionRuntimeOptions,
  scriptedModel,
} from "../src/index.ts";
import { createTestSession, MemoryWorkflows, type TestSession } from "../src/testing/index.ts";
import { sessionWorkflows, settleDue } from "./fixtures.ts";

/**
 * The Workflow executor in core: the session runtime's Workflow methods driven by core's
 * loop (`runAgentWorkflow`) on an in-memory Workflows binding that replays like Workflows
 * (cached steps by name, retries, restarts). The same runs on the alarm driver give the
 * reference ledger.
 */

const executions = new Map<string, number>();
const count = (key: string) => executions.set(key, (executions.get(key) ?? 0) + 1);

function counted(name: string, effect: "pure" | "idempotent" | "irreversible") {
  return defineTool({
    name,
    description: `${effect} test tool`,
    input: z.object({ n: z.number() }),
    effect,
    execute: ({ n }, ctx) => {
      count(`${name}:${ctx.idempotencyKey}`);
      return { [name]: n };
    },
  });
}

const tools = [
  counted("double", "pure"),
  counted("record", "idempotent"),
  counted("charge", "irreversible"),
];

/** Step 1: three tools in parallel (pure, idempotent, irreversible); step 2: two; step 3 answers. */
function threeSteps(executor?: "workflow"): AgentDefinition {
  return defineAgent({
    name: "faulty",
    system: "Test agent.",
    tools,
    ...(executor ? { executor } : {}),
    model: scriptedModel({
      chunkSize: 3,
      turns: [
        {
          text: "Step one, three tools.",
          toolCalls: [
            { name: "double", args: { n: 1 } },
            { name: "record", args: { n: 2 } },
            { name: "charge", args: { n: 3 } },
          ],
        },
        {
          text: "Step two, two tools.",
          toolCalls: [
            { name: "double", args: { n: 4 } },
            { name: "record", args: { n: 5 } },
          ],
        },
        { text: "All three steps are done." },
      ],
    }),
  });
}

interface Harness {
  s: TestSession;
  flows: MemoryWorkflows;
  /** Runs due work and the instances until nothing is due and every instance rests. */
  settle(): Promise<void>;
  /** The session object crashes and comes back: a new runtime on the same database. */
  restart(): void;
}

function onWorkflows(
  agent: AgentDefinition,
  faults?: FaultInjector,
  more: Partial<SessionRuntimeOptions> = {},
): Harness {
  let s: TestSession;
  const flows = sessionWorkflows(() => s);
  s = createTestSession(agent, { agentWorkflows: flows, faults, ...more });
  return {
    get s() {
      return s;
    },
    flows,
    settle: () => settleDue(() => s, flows),
    restart() {
      s = s.restart();
    },
  };
}

/** The ledger without ids, times and streamed deltas; tool events of a step in callId order. */
function comparable(events: readonly LedgerEvent[]): unknown[] {
  const kept = events
    .filter((e) => e.kind !== "model.delta")
    .map(({ kind, data }) => ({
      kind,
      data: JSON.parse(JSON.stringify(data).replace(/run_\d+/g, "RUN")),
    }))
    .map((e) =>
      e.kind === "run.started" ? { ...e, data: { ...e.data, executor: undefined } } : e,
    );
  const out: typeof kept = [];
  for (let i = 0; i < kept.length; ) {
    if (!kept[i]?.kind.startsWith("tool.")) {
      out.push(kept[i] as (typeof kept)[number]);
      i++;
      continue;
    }
    let j = i;
    while (j < kept.length && kept[j]?.kind.startsWith("tool.")) j++;
    const rank = (kind: string) => (kind === "tool.started" ? 0 : 1);
    out.push(
      ...kept.slice(i, j).sort((a, b) => {
        const ca = (a.data as { callId: string }).callId;
        const cb = (b.data as { callId: string }).callId;
        return ca === cb ? rank(a.kind) - rank(b.kind) : ca < cb ? -1 : 1;
      }),
    );
    i = j;
  }
  return out;
}

async function alarmReference(): Promise<LedgerEvent[]> {
  const s = createTestSession(threeSteps());
  await s.runtime.start({ message: "go" });
  await s.drain();
  return s.runtime.ledger.read(0);
}

function ranOnce(events: readonly LedgerEvent[]): void {
  for (const e of events) {
    if (e.kind !== "tool.started") continue;
    const n = executions.get(`${e.data.name}:${e.data.idempotencyKey}`) ?? 0;
    if (e.data.name === "charge") expect(n).toBe(1);
    else expect(n).toBeGreaterThanOrEqual(1);
  }
  const completed = events
    .filter((e) => e.kind === "tool.completed")
    .map((e) => e.data.callId + String(e.data.step));
  expect(new Set(completed).size).toBe(completed.length);
}

/** A Workflow agent whose one irreversible call (`charge`) waits for an approval. */
function guardedCharge() {
  return defineAgent({
    name: "guarded",
    system: "",
    executor: "workflow",
    tools: [{ ...counted("charge", "irreversible"), needsApproval: true }],
    model: scriptedModel({
      turns: [{ toolCalls: [{ name: "charge", args: { n: 7 } }] }, { text: "Charged." }],
    }),
  });
}
describe("the Workflow executor (core loop, in-memory Workflows)", () => {
  it("gives the alarm driver's ledger, run.started says executor workflow, the instance completes", async () => {
    const reference = await alarmReference();
    executions.clear();
    const h = onWorkflows(threeSteps("workflow"));
    const { runId } = await h.s.runtime.start({ message: "go" });
    await h.settle();
    const events = h.s.runtime.ledger.read(0);
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(events[0]).toMatchObject({ kind: "run.started", data: { executor: "workflow" } });
    expect(reference[0]?.data).not.toHaveProperty("executor");
    expect(comparable(events)).toEqual(comparable(reference));
    const id = await runInstanceId("faulty", "s1", runId);
    expect(h.flows.instances.size).toBe(1);
    expect(await h.flows.status(id)).toMatchObject({
      status: "complete",
      output: { status: "completed" },
    });
    ranOnce(events);
  });

  it("a stopped Workflow run's prompt cache goes into the idle budget, as an alarm run's does", async () => {
    const idle = new IdlePromptCaches();
    const h = onWorkflows(threeSteps("workflow"), undefined, { idlePromptCaches: idle });
    await h.s.runtime.start({ message: "go" });
    await h.settle();
    expect(h.s.runtime.ledger.read(0).at(-1)?.kind).toBe("run.completed");
    expect(idle.count).toBe(1);
    expect(idle.bytes).toBeGreaterThan(0);
  });

  it("a per-run executor overrides the agent's, and an alarm run creates no instance", async () => {
    const h = onWorkflows(threeSteps());
    await h.s.runtime.start({ message: "go", executor: "workflow" });
    await h.settle();
    expect(h.s.runtime.ledger.read(0)[0]?.data).toMatchObject({ executor: "workflow" });
    expect(h.flows.instances.size).toBe(1);
    const alarm = onWorkflows(threeSteps("workflow"));
    await alarm.s.runtime.start({ message: "go", executor: "alarm" });
    await alarm.settle();
    expect(alarm.s.runtime.ledger.read(0).at(-1)?.kind).toBe("run.completed");
    expect(alarm.flows.instances.size).toBe(0);
  });

  it("failed steps are retried by the platform and lost reports replayed: no lost or duplicated events", async () => {
    const reference = await alarmReference();
    executions.clear();
    const h = onWorkflows(threeSteps("workflow"));
    h.flows.failStep("model 1", 2);
    h.flows.failStep("tool 1 call_0_1", 1);
    h.flows.loseResult("model 2", 1);
    h.flows.loseResult("tool 1 call_0_2", 2);
    h.flows.loseResult("tool 2 call_1_0", 1);
    await h.s.runtime.start({ message: "go" });
    await h.settle();
    const events = h.s.runtime.ledger.read(0);
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(comparable(events)).toEqual(comparable(reference));
    const instance = [...h.flows.instances.values()][0];
    // The lost reports ran their step again; the session acknowledged and ignored the replays.
    expect(instance?.ran.get("model 2")).toBe(2);
    expect(instance?.ran.get("tool 1 call_0_2")).toBe(3);
    ranOnce(events);
  });

  it("an instance restarted mid-run replays from the top and goes on where the ledger is", async () => {
    const reference = await alarmReference();
    executions.clear();
    const h = onWorkflows(threeSteps("workflow"));
    let restarted = 0;
    h.flows.beforeStep("tool 2 call_1_1", () => {
      if (restarted++ > 0) return;
      const instance = [...h.flows.instances.values()][0];
      queueMicrotask(() => instance?.restart());
    });
    await h.s.runtime.start({ message: "go" });
    await h.settle();
    const events = h.s.runtime.ledger.read(0);
    expect(restarted).toBeGreaterThan(0);
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(comparable(events)).toEqual(comparable(reference));
    ranOnce(events);
  });

  it("an instance restarted while its tool call is in flight: the replay performs the call again, and only one result is recorded", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let runs = 0;
    let h!: Harness;
    const slow = defineTool({
      name: "slow",
      description: "pure test tool whose first execution waits",
      input: z.object({ n: z.number() }),
      effect: "pure",
      execute: async ({ n }) => {
        // The platform restarts the instance while the first execution runs in the object;
        // the replay performs the call again, and the second execution lets the first go on:
        // both finish, and both try to record a result.
        if (++runs === 1) {
          [...h.flows.instances.values()][0]?.restart();
          await held;
        } else release();
        return { n };
      },
    });
    const agent = defineAgent({
      name: "slowpoke",
      system: "",
      executor: "workflow",
      tools: [slow],
      model: scriptedModel({
        turns: [{ toolCalls: [{ name: "slow", args: { n: 1 } }] }, { text: "Done." }],
      }),
    });
    h = onWorkflows(agent);
    await h.s.runtime.start({ message: "go" });
    await h.settle();
    const events = h.s.runtime.ledger.read(0);
    expect(runs).toBe(2);
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(events.filter((e) => e.kind === "tool.completed")).toHaveLength(1);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });

  it("an instance left dormant mid-step (the engine never resumes it) is woken by the session's check and completes", async () => {
    const reference = await alarmReference();
    executions.clear();
    const checkMs = 1000;
    // singleInstance: a Durable Object, whose alarm a restart keeps.
    const h = onWorkflows(threeSteps("workflow"), undefined, {
      runWorkflowCheckMs: checkMs,
      singleInstance: true,
    });
    let slept = 0;
    h.flows.beforeStep("model 2", () => {
      if (slept++ > 0) return;
      [...h.flows.instances.values()][0]?.sleep();
    });
    const { runId } = await h.s.runtime.start({ message: "go" });
    await h.settle();
    expect(slept).toBe(1);
    const stalled = h.s.runtime.ledger.read(0);
    expect(latestRun(h.s.sql)?.status).toBe("running");
    expect(stalled.at(-1)?.kind).toBe("step.completed");
    // The session object restarts too: the check is due work, so it survives (and is due at
    // once in the new object, whose first check wakes the instance).
    h.restart();
    for (let i = 0; i < 3 && latestRun(h.s.sql)?.status === "running"; i++) {
      h.s.clock.advance(checkMs);
      await h.settle();
    }
    const events = h.s.runtime.ledger.read(0);
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(comparable(events)).toEqual(comparable(reference));
    ranOnce(events);
    const id = await runInstanceId("faulty", "s1", runId);
    expect(await h.flows.status(id)).toMatchObject({ status: "complete" });
    // The check stops with the run: nothing is due any more.
    h.s.clock.advance(checkMs);
    await h.settle();
    expect(h.s.runtime.work.list()).toEqual([]);
    expect(h.s.runtime.ledger.read(0)).toHaveLength(events.length);
  });

  it("a new session object wakes a dormant instance at once, though the run moved since the last check", async () => {
    const reference = await alarmReference();
    executions.clear();
    // Ten minutes between checks: only the object's start gets the run going here.
    const h = onWorkflows(threeSteps("workflow"), undefined, {
      runWorkflowCheckMs: 600_000,
      singleInstance: true,
    });
    let slept = 0;
    h.flows.beforeStep("model 2", () => {
      if (slept++ > 0) return;
      [...h.flows.instances.values()][0]?.sleep();
    });
    await h.s.runtime.start({ message: "go" });
    await h.settle();
    expect(slept).toBe(1);
    expect(latestRun(h.s.sql)?.status).toBe("running");
    h.restart();
    await new Promise((settle) => setTimeout(settle, 20));
    await h.settle();
    const events = h.s.runtime.ledger.read(0);
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(comparable(events)).toEqual(comparable(reference));
    ranOnce(events);
  });

  it("a check wakes an instance that finished while its run still runs (restarted, one rule)", async () => {
    const checkMs = 1000;
    const h = onWorkflows(threeSteps("workflow"), undefined, { runWorkflowCheckMs: checkMs });
    let lost = 0;
    h.flows.beforeStep("model 3", () => {
      if (lost++ > 0) return;
      const instance = [...h.flows.instances.values()][0];
      instance?.sleep();
      if (instance) instance.status = "errored";
    });
    await h.s.runtime.start({ message: "go" });
    await h.settle();
    expect(latestRun(h.s.sql)?.status).toBe("running");
    for (let i = 0; i < 3 && latestRun(h.s.sql)?.status === "running"; i++) {
      h.s.clock.advance(checkMs);
      await h.settle();
    }
    expect(h.s.runtime.ledger.read(0).at(-1)?.kind).toBe("run.completed");
    expect(h.flows.instances.size).toBe(1);
  });

  it("the session object crashing after an irreversible tool started: outcome unknown, a human settles it, at most once", async () => {
    executions.clear();
    let crash = true;
    const faults: FaultInjector = (point, info) => {
      if (point === "after-tool-started" && info.callId === "call_0_2" && crash) {
        crash = false;
        throw new Error("injected crash: the session object is gone");
      }
    };
    const h = onWorkflows(threeSteps("workflow"), faults);
    await h.s.runtime.start({ message: "go" });
    await h.settle();
    let events = h.s.runtime.ledger.read(0);
    expect(events.at(-1)).toMatchObject({
      kind: "run.waiting",
      data: { reason: "outcome_unknown" },
    });
    expect(events.filter((e) => e.kind === "tool.outcome_unknown").map((e) => e.data.name)).toEqual(
      ["charge"],
    );
    h.restart();
    await h.s.runtime.resume({ approvals: [{ callId: "call_0_2", approved: true }] });
    await h.settle();
    events = h.s.runtime.ledger.read(0);
    expect(events.at(-1)?.kind).toBe("run.completed");
    ranOnce(events);
  });

  it("approve after a restart of the session object: the parked instance is woken and finishes", async () => {
    const guarded = guardedCharge();
    executions.clear();
    const h = onWorkflows(guarded);
    await h.s.runtime.start({ message: "charge 7" });
    await h.settle();
    expect(latestRun(h.s.sql)).toMatchObject({ status: "waiting", waitingReason: "approval" });
    expect([...h.flows.instances.values()][0]?.status).toBe("waiting");
    h.restart();
    await h.s.runtime.resume({ approvals: [{ callId: "call_0_0", approved: true }] });
    await h.settle();
    const events = h.s.runtime.ledger.read(0);
    expect(events.at(-1)).toMatchObject({ kind: "run.completed", data: { output: "Charged." } });
    ranOnce(events);
  });

  it("a resume on a server without the executor's side is refused and writes nothing; the waiting run resumes after a deploy with it", async () => {
    const guarded = guardedCharge();
    executions.clear();
    const h = onWorkflows(guarded);
    await h.s.runtime.start({ message: "charge 7" });
    await h.settle();
    const before = h.s.runtime.ledger.read(0).length;
    // A deploy without createAgentWorkflow: the approval must not be spent on a run it cannot drive.
    const without = h.s.restart({ workflowRuns: undefined });
    const approve = { approvals: [{ callId: "call_0_0", approved: true }] };
    await expect(without.runtime.resume(approve)).rejects.toMatchObject({
      code: "workflows_unavailable",
      message: expect.stringContaining("createAgentWorkflow"),
    });
    expect(without.runtime.canResume(approve)).toMatchObject({
      canResume: false,
      code: "workflows_unavailable",
    });
    // The progress check left from while the run ran comes due: it fails no waiting run.
    expect(without.runtime.work.list().map((w) => w.kind)).toEqual(["run.workflow"]);
    without.clock.advance(30_000);
    await without.runtime.alarm();
    expect(without.runtime.work.list()).toEqual([]);
    expect(without.runtime.ledger.read(0)).toHaveLength(before);
    expect(latestRun(without.sql)).toMatchObject({ status: "waiting", waitingReason: "approval" });
    // The next deploy has the export again: the same approval resumes the parked instance.
    h.restart();
    await h.s.runtime.resume(approve);
    await h.settle();
    const events = h.s.runtime.ledger.read(0);
    expect(events.at(-1)).toMatchObject({ kind: "run.completed", data: { output: "Charged." } });
    ranOnce(events);
  });

  it("interrupt mid-answer keeps the partial answer; a resume with a message goes on in the same instance", async () => {
    const talker = defineAgent({
      name: "talker",
      system: "",
      executor: "workflow",
      model: scriptedModel({
        chunkSize: 2,
        delayMs: 1,
        turns: [{ text: "A long answer that will be cut." }, { text: "Short." }],
      }),
    });
    let h: Harness | undefined;
    let once = true;
    // The first delta is on the ledger: the user presses stop while the answer streams.
    h = onWorkflows(
      talker,
      (point) => {
        if (point !== "mid-stream" || !once) return;
        once = false;
        void h?.s.runtime.interrupt("user pressed stop");
      },
      { coalesce: { maxDelayMs: 50, maxChars: 1 } },
    );
    await h.s.runtime.start({ message: "talk" });
    await h.settle();
    expect(latestRun(h.s.sql)).toMatchObject({ status: "interrupted" });
    expect([...h.flows.instances.values()][0]?.status).toBe("waiting");
    await h.s.runtime.resume({ mode: "with_message", message: "be brief" });
    await h.settle();
    const events = h.s.runtime.ledger.read(0);
    const kinds = events.map((e) => e.kind);
    expect(kinds.slice(0, 3)).toEqual(["run.started", "step.started", "model.delta"]);
    expect(kinds).toContain("run.interrupted");
    const partial = events.find((e) => e.kind === "model.completed");
    expect(partial?.data).toMatchObject({ step: 1 });
    expect(String((partial?.data as { text?: string } | undefined)?.text).length).toBeLessThan(
      "A long answer that will be cut.".length,
    );
    expect(events.find((e) => e.kind === "run.interrupted")?.data).toEqual({
      reason: "user pressed stop",
    });
    expect(events.at(-1)?.kind).toBe("run.completed");
    // The resumed run answered in a new step, driven by the same instance.
    expect(events.filter((e) => e.kind === "step.started").map((e) => e.data)).toEqual([
      { step: 1, attempt: 1 },
      { step: 2, attempt: 1 },
    ]);
    expect(h.flows.instances.size).toBe(1);
  });

  it("abort terminates the instance (status read back) and nothing is appended after run.aborted", async () => {
    const guarded = defineAgent({
      name: "guarded",
      system: "",
      executor: "workflow",
      tools: [{ ...counted("charge", "irreversible"), needsApproval: true }],
      model: scriptedModel({
        turns: [{ toolCalls: [{ name: "charge", args: { n: 1 } }] }, { text: "x" }],
      }),
    });
    const h = onWorkflows(guarded);
    const { runId } = await h.s.runtime.start({ message: "charge" });
    await h.settle();
    await h.s.runtime.abort("operator");
    await h.settle();
    const id = await runInstanceId("guarded", "s1", runId);
    expect((await h.flows.status(id)).status).toBe("terminated");
    expect(h.s.runtime.ledger.read(0).at(-1)?.kind).toBe("run.aborted");
  });

  it("a Workflow start on a server without the binding is refused and writes nothing", async () => {
    const unbound = createTestSession(threeSteps());
    const perRun = unbound.runtime.start({ message: "go", executor: "workflow" });
    await expect(perRun).rejects.toMatchObject({
      status: 400,
      code: "workflows_unavailable",
      message: expect.stringMatching(
        /AGENT_WORKFLOW.*createAgentWorkflow|createAgentWorkflow.*AGENT_WORKFLOW/,
      ),
    });
    const byAgent = createTestSession(threeSteps("workflow"));
    await expect(byAgent.runtime.start({ message: "go" })).rejects.toMatchObject({
      status: 500,
      code: "workflows_unavailable",
    });
    // A port whose binding is missing says so itself (the Cloudflare port names its binding).
    const missing = { code: "workflows_unavailable", message: "the binding MY_FLOW is missing" };
    const flows = new MemoryWorkflows(() => {
      throw new Error("no instance may start");
    });
    const named = createTestSession(threeSteps("workflow"), {
      agentWorkflows: Object.assign(flows, { unavailable: missing }),
    });
    await expect(named.runtime.start({ message: "go" })).rejects.toMatchObject(missing);
    for (const s of [unbound, byAgent, named]) {
      expect(s.runtime.ledger.read(0)).toEqual([]);
      expect(s.runtime.work.list()).toEqual([]);
    }
    // The alarm still runs it, on the same server.
    await unbound.runtime.start({ message: "go" });
    await unbound.drain();
    expect(unbound.runtime.ledger.read(0).at(-1)?.kind).toBe("run.completed");
  });

  it("without the executor's side (workflowRuns) a Workflow run is refused even with a port, and one left by a deploy with it fails", async () => {
    // SessionRuntimeBase as the session object builds it in a Worker without createAgentWorkflow.
    const flows = new MemoryWorkflows(() => {
      throw new Error("no instance may start");
    });
    const bare = createTestSession(threeSteps("workflow"), {
      agentWorkflows: flows,
      workflowRuns: undefined,
    });
    await expect(bare.runtime.start({ message: "go" })).rejects.toMatchObject({
      status: 500,
      code: "workflows_unavailable",
      message: expect.stringContaining("createAgentWorkflow"),
    });
    expect(bare.runtime.ledger.read(0)).toEqual([]);
    await expect(bare.runtime.wfCall("run_1", { type: "decide" })).rejects.toMatchObject({
      status: 404,
      code: "run_not_found",
    });
    // A run started by a deploy that had the executor, whose object comes back without it:
    // its `run.workflow` row fails it rather than leaving it running with nothing to drive it.
    const h = onWorkflows(threeSteps("workflow"));
    const { runId } = await h.s.runtime.start({ message: "go" });
    const without = h.s.restart({ workflowRuns: undefined });
    await without.runtime.alarm();
    expect(latestRun(without.sql)).toMatchObject({ runId, status: "failed" });
    const failed = without.runtime.ledger.read(0).find((e) => e.kind === "run.failed");
    expect(failed?.data).toMatchObject({ error: { code: "workflows_unavailable" } });
    // Its retry there is refused and writes nothing; a deploy with the executor retries it.
    const written = without.runtime.ledger.read(0).length;
    await expect(without.runtime.retry({ mode: "from_start" })).rejects.toMatchObject({
      code: "workflows_unavailable",
    });
    expect(without.runtime.ledger.read(0)).toHaveLength(written);
    h.restart();
    await h.s.runtime.retry({ mode: "from_start" });
    await h.settle();
    expect(latestRun(h.s.sql)).toMatchObject({ runId, status: "completed" });
  });

  it("the Workflow calls refuse a run that is not on the Workflow executor", async () => {
    const s = createTestSession(threeSteps());
    const { runId } = await s.runtime.start({ message: "go" });
    const before = s.runtime.ledger.read(0);
    for (const call of [
      { type: "decide" },
      { type: "model", step: 1 },
      { type: "tool", step: 1, callId: "call_0_0" },
      { type: "giveUp", error: { code: "x", message: "no" } },
    ] as const) {
      await expect(s.runtime.wfCall(runId, call)).rejects.toThrow(
        /no run .* on the Workflow executor/,
      );
      await expect(s.runtime.wfCall("run_nope", call)).rejects.toMatchObject({
        status: 404,
        code: "run_not_found",
      });
    }
    // Refused calls change nothing: the alarm still owns the run.
    expect(s.runtime.ledger.read(0)).toEqual(before);
  });

  it('an executor: "workflow" tool runs in a step of the run\'s own instance (no instance of its own)', async () => {
    const crunch = defineTool({
      name: "crunch",
      description: "A long job.",
      input: z.object({ n: z.number() }),
      effect: "idempotent",
      executor: "workflow",
      execute: ({ n }) => ({ total: n * 2 }),
    });
    const cruncher = defineAgent({
      name: "cruncher",
      system: "",
      executor: "workflow",
      tools: [crunch],
      model: scriptedModel({
        rules: [
          ({ turn, toolResults }) =>
            turn === 0
              ? { toolCalls: [{ name: "crunch", args: { n: 21 } }] }
              : { text: `Answer: ${JSON.stringify(toolResults.map((r) => r.output))}` },
        ],
      }),
    });
    const ran: string[] = [];
    let s: TestSession | undefined;
    const flows = sessionWorkflows(
      () => s as TestSession,
      async (call) => {
        ran.push(call.idempotencyKey);
        return { type: "completed", result: { total: (call.args as { n: number }).n * 2 } };
      },
    );
    s = createTestSession(cruncher, { agentWorkflows: flows });
    // The step's result is lost once: the tool runs again (idempotent) and is recorded once.
    flows.loseResult("tool 1 call_0_0", 1);
    await s.runtime.start({ message: "crunch 21" });
    for (let i = 0; i < 100 && (s.wakeAt() ?? Infinity) <= s.clock.now(); i++) {
      await s.drain();
      await flows.resting();
    }
    const events = s.runtime.ledger.read(0);
    expect(events.at(-1)).toMatchObject({
      kind: "run.completed",
      data: { output: 'Answer: [{"total":42}]' },
    });
    const kinds = events.map((e) => e.kind);
    expect(kinds).not.toContain("workflow.started");
    expect(kinds).not.toContain("run.waiting");
    expect(events.filter((e) => e.kind === "tool.completed")).toHaveLength(1);
    expect(ran).toEqual(["s1/run_1/1/call_0_0", "s1/run_1/1/call_0_0"]);
    expect(flows.instances.size).toBe(1);
  });

  it("a failed run retried wakes its finished instance again (restart) and completes", async () => {
    let calls = 0;
    const once = defineAgent({
      name: "once",
      system: "",
      executor: "workflow",
      maxSteps: 1,
      tools: [counted("double", "pure")],
      model: scriptedModel({
        rules: [
          () =>
            ++calls === 1
              ? { toolCalls: [{ name: "double", args: { n: 1 } }] }
              : { text: "Second time lucky." },
        ],
      }),
    });
    const h = onWorkflows(once);
    const { runId } = await h.s.runtime.start({ message: "go" });
    await h.settle();
    expect(latestRun(h.s.sql)).toMatchObject({ status: "failed", error: { code: "max_steps" } });
    const id = await runInstanceId("once", "s1", runId);
    expect(await h.flows.status(id)).toMatchObject({
      status: "complete",
      output: { status: "failed" },
    });
    await h.s.runtime.retry({ mode: "from_start" });
    await h.settle();
    expect(h.s.runtime.ledger.read(0).at(-1)).toMatchObject({
      kind: "run.completed",
      data: { output: "Second time lucky." },
    });
    expect(await h.flows.status(id)).toMatchObject({
      status: "complete",
      output: { status: "completed" },
    });
    expect(h.flows.instances.size).toBe(1);
  });

  it("a run of 300 steps completes on the Workflow executor, every step on the ledger", async () => {
    const steps = 300;
    const long = defineAgent({
      name: "long",
      system: "",
      executor: "workflow",
      maxSteps: steps + 1,
      tools: [counted("double", "pure")],
      model: scriptedModel({
        rules: [
          ({ turn }) =>
            turn < steps
              ? { toolCalls: [{ name: "double", args: { n: turn } }] }
              : { text: "done" },
        ],
      }),
    });
    const h = onWorkflows(long);
    await h.s.runtime.start({ message: "go" });
    await h.settle();
    const events = h.s.runtime.ledger.read(0, 10_000);
    expect(events.at(-1)).toMatchObject({ kind: "run.completed", data: { output: "done" } });
    expect(events.filter((e) => e.kind === "step.completed")).toHaveLength(steps + 1);
    expect(events.filter((e) => e.kind === "tool.completed")).toHaveLength(steps);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });
});
