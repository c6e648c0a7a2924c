import { env, introspectWorkflow, runInDurableObject } from "cloudflare:test";
import type { LedgerEvent, ToolWorkflowParams } from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import type { SessionPeerStub } from "../src/agent-object/session-peers.ts";
import { toolWorkflowPort } from "../src/workflows/workflow-port.ts";
import { probe } from "./fixture/probe.ts";
import { isTerminal, type SessionHandle, session } from "./support/session.ts";

let introspector: Awaited<ReturnType<typeof introspectWorkflow>> | undefined;

/** Sees every instance of TOOL_WORKFLOW created from now until the test ends. */
async function watchInstances() {
  introspector = await introspectWorkflow(env.TOOL_WORKFLOW);
  return introspector;
}

afterEach(async () => {
  probe.reset();
  await introspector?.dispose();
  introspector = undefined;
});

const ended = (e: LedgerEvent) =>
  e.kind === "run.completed" || e.kind === "run.failed" || e.kind === "run.aborted";

/** The call as its Workflow instance got it, rebuilt from the ledger. */
async function callOf(s: SessionHandle): Promise<ToolWorkflowParams> {
  const started = (await s.events()).find((e) => e.kind === "tool.started");
  if (started?.kind !== "tool.started") throw new Error("no tool.started yet");
  const { step, callId, name, args, idempotencyKey } = started.data;
  const runId = started.runId as string;
  return {
    agent: s.agent,
    session: s.session,
    runId,
    step,
    callId,
    tool: name,
    args,
    idempotencyKey,
  };
}

/** Waits until the call's instance is inside `execute` (the fixture's tool counts each entry). */
async function executing(call: ToolWorkflowParams): Promise<void> {
  const until = Date.now() + 20_000;
  while (probe.executions(`crunch:${call.idempotencyKey}`) === 0 && Date.now() < until)
    await new Promise((r) => setTimeout(r, 20));
}

/** A workflower run whose crunch instance is inside `execute`, held at the closed gate. */
async function crunchExecuting(): Promise<{ s: SessionHandle; call: ToolWorkflowParams }> {
  const s = session("workflower");
  probe.close("crunch");
  await s.post("runs", { input: { message: "crunch 21" } });
  await s.waitFor((e) => e.kind === "run.waiting", 20_000);
  const call = await callOf(s);
  await executing(call);
  return { s, call };
}

async function crashObject(s: SessionHandle, why: string): Promise<void> {
  await runInDurableObject(s.stub(), (_instance, state) =>
    state.abort(`injected crash: ${why}`),
  ).catch(() => undefined);
}

describe("tools on Cloudflare Workflows", () => {
  it("the run waits for the instance, records its result and the model answers with it", async () => {
    const workflows = await watchInstances();
    const s = session("workflower");
    await s.post("runs", { input: { message: "crunch 21" } });
    const end = await s.waitFor(ended, 20_000);
    expect(end).toMatchObject({
      kind: "run.completed",
      data: { output: 'Answer: [{"total":42}]' },
    });
    const events = await s.events();
    const kinds = events.map((e) => e.kind);
    expect(kinds).toContain("run.waiting");
    expect(events.find((e) => e.kind === "run.waiting")?.data).toEqual({ reason: "workflow" });
    const started = events.filter((e) => e.kind === "workflow.started");
    expect(started).toHaveLength(1);
    expect(events.filter((e) => e.kind === "tool.completed").map((e) => e.data)).toEqual([
      expect.objectContaining({ name: "crunch", result: { total: 42 } }),
    ]);
    const instances = await workflows.get();
    expect(instances).toHaveLength(1);
    const call = await callOf(s);
    expect(probe.executions(`crunch:${call.idempotencyKey}`)).toBe(1);
  });

  it("a crash before the instance is created and another while it runs: one instance, one result", async () => {
    const workflows = await watchInstances();
    const s = session("workflower");
    probe.close("crunch");
    probe.crashSessionAt(s.session, "after-tool-started");
    await s.post("runs", { input: { message: "crunch 21" } });
    await s.waitFor((e) => e.kind === "run.waiting", 20_000);
    // The create row survived the first crash; wait for its instance to be executing.
    const call = await callOf(s);
    await executing(call);
    expect(probe.executions("fault:after-tool-started")).toBe(1);
    await crashObject(s, "while the workflow runs");
    probe.open("crunch");
    const end = await s.waitFor(ended, 20_000);
    expect(end.kind).toBe("run.completed");
    const events = await s.events();
    expect(events.filter((e) => e.kind === "workflow.started")).toHaveLength(1);
    expect(events.filter((e) => e.kind === "tool.completed")).toHaveLength(1);
    expect(await workflows.get()).toHaveLength(1);
    expect(probe.executions(`crunch:${call.idempotencyKey}`)).toBe(1);
  });

  it("a second delivery of the same result changes nothing", async () => {
    const s = session("workflower");
    await s.post("runs", { input: { message: "crunch 21" } });
    await s.waitFor(ended, 20_000);
    const before = await s.events();
    const stub = s.stub() as unknown as SessionPeerStub;
    const call = await callOf(s);
    const refused = await stub.receiveToolResult({
      call,
      outcome: { type: "completed", result: { total: -1 } },
    });
    expect(refused).toBeNull();
    expect(await s.events()).toEqual(before);
  });

  it("a tool that throws becomes tool.failed, and the model sees the error", async () => {
    const s = session("workflower");
    await s.post("runs", { input: { message: "explode" } });
    const end = await s.waitFor(ended, 20_000);
    const failed = (await s.events()).find((e) => e.kind === "tool.failed");
    expect([end.kind, failed?.data]).toMatchObject([
      "run.completed",
      {
        name: "explode",
        error: { code: "tool_error", message: expect.stringContaining("the reactor is offline") },
      },
    ]);
    expect(JSON.stringify(end.data)).toContain("the reactor is offline");
  });

  it("admit runs in the instance before execute: a refusal is tool.failed tool_refused, execute never runs", async () => {
    const s = session("workflower");
    await s.post("runs", { input: { message: "crunch big" } });
    const end = await s.waitFor(ended, 20_000);
    const events = await s.events();
    const failed = events.find((e) => e.kind === "tool.failed");
    expect([end.kind, failed?.data]).toMatchObject([
      "run.completed",
      {
        name: "crunch",
        error: {
          code: "tool_refused",
          message: "crunch was not admitted: 5000 is too big to crunch",
        },
      },
    ]);
    const started = events.find((e) => e.kind === "tool.started");
    const key = started?.kind === "tool.started" ? started.data.idempotencyKey : "";
    expect(probe.executions(`crunch:${key}`)).toBe(0);
  });

  it("an abort while the instance runs ends the run; the late result adds no events", async () => {
    const workflows = await watchInstances();
    const { s } = await crunchExecuting();
    expect((await s.post("abort", { reason: "user gave up" })).ok).toBe(true);
    probe.open("crunch");
    const instances = await workflows.get();
    expect(instances).toHaveLength(1);
    await instances[0]?.waitForStatus("complete");
    const events = await s.events();
    expect(events.at(-1)?.kind).toBe("run.aborted");
    expect(events.filter(isTerminal).map((e) => e.kind)).toEqual(["run.waiting", "run.aborted"]);
  });
});

describe("an interrupt while a tool's Workflow instance runs (a pause: the call keeps its result)", () => {
  it("the result that arrives while the run is interrupted is recorded, and the resumed run continues with it", async () => {
    const workflows = await watchInstances();
    const { s } = await crunchExecuting();
    expect((await s.post("interrupt", { reason: "pause" })).ok).toBe(true);
    await s.waitFor((e) => e.kind === "run.interrupted", 20_000);
    probe.open("crunch");
    await (await workflows.get())[0]?.waitForStatus("complete");
    await s.waitFor((e) => e.kind === "tool.completed", 20_000);

    expect((await s.post("resume", { mode: "continue" })).ok).toBe(true);
    const end = await s.waitFor(ended, 20_000);
    const events = await s.events();
    expect(events.filter((e) => e.kind === "tool.failed")).toEqual([]);
    expect(events.filter((e) => e.kind === "tool.completed")).toHaveLength(1);
    expect(end).toMatchObject({
      kind: "run.completed",
      data: { output: 'Answer: [{"total":42}]' },
    });
  });

  it("resumed before the instance answers: the run waits for it again and ends with its result", async () => {
    const workflows = await watchInstances();
    const { s, call } = await crunchExecuting();
    expect((await s.post("interrupt", { reason: "pause" })).ok).toBe(true);
    await s.waitFor((e) => e.kind === "run.interrupted", 20_000);
    expect((await s.post("resume", { mode: "continue" })).ok).toBe(true);
    await s.waitFor((e) => e.kind === "run.resumed", 20_000);
    probe.open("crunch");
    const end = await s.waitFor(ended, 20_000);
    const events = await s.events();
    expect(events.filter((e) => e.kind === "tool.failed")).toEqual([]);
    expect(end).toMatchObject({
      kind: "run.completed",
      data: { output: 'Answer: [{"total":42}]' },
    });
    expect(await workflows.get()).toHaveLength(1);
    expect(probe.executions(`crunch:${call.idempotencyKey}`)).toBe(1);
  });
});

describe("tool Workflows: creating again, and reports that never arrive", () => {
  it("a second create of the same call's instance (a redrive) succeeds: one instance, one tool.completed", async () => {
    const workflows = await watchInstances();
    const { s, call } = await crunchExecuting();
    const started = (await s.events()).find((e) => e.kind === "workflow.started");
    if (started?.kind !== "workflow.started") throw new Error("no workflow.started yet");
    const { instanceId } = started.data;
    const port = toolWorkflowPort(env as unknown as Record<string, unknown>, "TOOL_WORKFLOW");
    expect(await port.create(instanceId, call)).toBeUndefined();
    probe.open("crunch");
    expect((await s.waitFor(ended, 20_000)).kind).toBe("run.completed");
    const events = await s.events();
    expect(events.filter((e) => e.kind === "tool.completed")).toHaveLength(1);
    expect(await workflows.get()).toHaveLength(1);
    expect(probe.executions(`crunch:${call.idempotencyKey}`)).toBe(1);
  });

  it("toolWorkflowPort: a create that throws for an id that exists is a success that wakes it unless it finished; otherwise it throws", async () => {
    const params = {} as ToolWorkflowParams;
    const woken: string[] = [];
    const binding = (status: string | undefined) => ({
      TOOL_WORKFLOW: {
        create: async () => {
          throw new Error("instance.already_exists");
        },
        get: async (id: string) => {
          if (status === undefined) throw new Error(`instance ${id} not found`);
          return {
            id,
            status: async () => ({ status }),
            sendEvent: async ({ type }: { type: string }) => void woken.push(`${status} ${type}`),
            restart: async () => void woken.push(`${status} restarted`),
          };
        },
      },
    });
    const create = (status: string | undefined) =>
      toolWorkflowPort(binding(status), "TOOL_WORKFLOW").create("tool-1", params);
    for (const status of ["running", "waiting", "complete", "errored", "terminated"])
      await expect(create(status)).resolves.toBeUndefined();
    // Only the instances that have not finished are woken; none is restarted (execute would run again).
    expect(woken).toEqual(["running wake", "waiting wake"]);
    await expect(create(undefined)).rejects.toThrow("instance.already_exists");
  });

  it("toolWorkflowPort.wake (the session's check, of an instance not finished): one wake event, no create, no status read, no restart", async () => {
    const calls: string[] = [];
    const binding = {
      TOOL_WORKFLOW: {
        create: async () => void calls.push("create"),
        get: async (id: string) => ({
          id,
          status: async () => void calls.push("status"),
          sendEvent: async ({ type }: { type: string }) => void calls.push(`${id} ${type}`),
          restart: async () => void calls.push("restart"),
        }),
      },
    };
    expect(await toolWorkflowPort(binding, "TOOL_WORKFLOW").wake("tool-1")).toBeUndefined();
    expect(calls).toEqual(["tool-1 wake"]);
    // The binding went away: a refusal that names it, as at the create.
    expect(await toolWorkflowPort({}, "TOOL_WORKFLOW").wake("tool-1")).toMatchObject({
      code: "workflows_unavailable",
      message: expect.stringContaining('"TOOL_WORKFLOW"'),
    });
  });

  it("a new session object checks its open call at once, not at the check's due time", async () => {
    const { s, call } = await crunchExecuting();
    const started = (await s.events()).find((e) => e.kind === "workflow.started");
    // The call's check row (workflow-calls.ts, checkKey).
    const key = `workflow-check:${started?.data.instanceId}`;
    const dueAt = () =>
      runInDurableObject(
        s.stub(),
        (_instance, state) =>
          state.storage.sql.exec("SELECT due_at FROM due_work WHERE key = ?", key).toArray()[0]
            ?.due_at as number | undefined,
      );
    // The check is 15 minutes away (the default interval; the fixture's is half a second).
    const later = Date.now() + 15 * 60_000;
    await runInDurableObject(s.stub(), (_instance, state) => {
      state.storage.sql.exec("UPDATE due_work SET due_at = ? WHERE key = ?", later, key);
    });
    await crashObject(s, "a restart while the call is open");
    // A status read opens a new object: its first alarm checks the call and schedules the next.
    expect((await s.status()).status).toBe("waiting");
    const until = Date.now() + 10_000;
    while (((await dueAt()) ?? 0) >= later && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    expect(await dueAt()).toBeLessThan(later);
    probe.open("crunch");
    expect((await s.waitFor(ended, 20_000)).kind).toBe("run.completed");
    const events = await s.events();
    expect(events.filter((e) => e.kind === "tool.completed")).toHaveLength(1);
    expect(probe.executions(`crunch:${call.idempotencyKey}`)).toBe(1);
  });

  it("a report that never reaches the session: the session's check records the instance's output", async () => {
    const s = session("workflower");
    probe.failSessionAt(s.session, "before-tool-result");
    await s.post("runs", { input: { message: "crunch 21" } });
    const end = await s.waitFor(ended, 30_000);
    expect(end).toMatchObject({
      kind: "run.completed",
      data: { output: 'Answer: [{"total":42}]' },
    });
    expect(probe.executions("fault:before-tool-result")).toBeGreaterThan(1);
    const events = await s.events();
    expect(events.filter((e) => e.kind === "tool.completed").map((e) => e.data)).toEqual([
      expect.objectContaining({ name: "crunch", result: { total: 42 } }),
    ]);
  });
});

declare global {
  namespace Cloudflare {
    interface Env {
      TOOL_WORKFLOW: Workflow;
    }
  }
}
