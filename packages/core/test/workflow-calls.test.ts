import { afterEach, describe, expect, it, vi } from "vitest";
import {
  defineAgent,
  latestRun,
  listCheckpoints,
  scriptedModel,
  type ToolWorkflowParams,
  type ToolWorkflowPort,
  type ToolWorkflowStatus,
  workflowInstanceId,
} from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { crunch } from "./rewind-fixture.ts";
import { recordingLogger } from "./run-support.ts";

/** Calls `crunch`, never executed here: the port only records the instance it was asked to create. */
const agent = defineAgent({
  name: "cruncher",
  system: "",
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

/** Records the instances it creates and wakes; `instance.status` is what a status check reads. */
function recordingPort() {
  const created: { id: string; params: ToolWorkflowParams }[] = [];
  const woken: string[] = [];
  const instance = { status: { status: "running" } as ToolWorkflowStatus, checks: 0 };
  const port: ToolWorkflowPort = {
    async create(id, params) {
      created.push({ id, params });
      return undefined;
    },
    async wake(id) {
      woken.push(id);
      return undefined;
    },
    async status() {
      instance.checks++;
      return instance.status;
    },
  };
  return { port, created, woken, instance };
}

const CHECK_MS = 60_000;

const kinds = (s: ReturnType<typeof createTestSession>) =>
  s.runtime.ledger.read(0, 1000).map((e) => e.kind);

describe("workflow tool calls", () => {
  it("delegates the call, waits, and continues with the result", async () => {
    const { port, created } = recordingPort();
    const s = createTestSession(agent, { workflows: port });
    await s.runtime.start({ message: "go" });
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "waiting", waitingReason: "workflow" });
    expect(created).toHaveLength(1);
    const [{ id, params }] = created as [(typeof created)[0]];
    expect(id).toBe(
      await workflowInstanceId("cruncher", "s1", params.runId, params.step, params.callId),
    );
    expect(params).toMatchObject({ tool: "crunch", args: { n: 21 }, session: "s1" });
    expect(params.idempotencyKey).toBe(`s1/${params.runId}/1/${params.callId}`);

    const result = { call: params, outcome: { type: "completed" as const, result: 42 } };
    await s.runtime.receiveToolResult(result);
    await s.runtime.receiveToolResult(result);
    await s.drain();
    const events = s.runtime.ledger.read(0, 1000);
    expect(events.filter((e) => e.kind === "tool.completed")).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      kind: "run.completed",
      data: { output: "Answer: [42]" },
    });
  });

  it("a failure becomes tool.failed, which the model sees", async () => {
    const { port, created } = recordingPort();
    const s = createTestSession(agent, { workflows: port });
    await s.runtime.start({ message: "go" });
    await s.drain();
    const params = created[0]?.params as ToolWorkflowParams;
    const error = { code: "tool_error", message: "boom" };
    await s.runtime.receiveToolResult({ call: params, outcome: { type: "failed", error } });
    await s.drain();
    const events = s.runtime.ledger.read(0, 1000);
    expect(events.find((e) => e.kind === "tool.failed")?.data).toMatchObject({ error });
    expect(events.at(-1)?.kind).toBe("run.completed");
  });

  it("a late result for an aborted run adds nothing", async () => {
    const { port, created } = recordingPort();
    const s = createTestSession(agent, { workflows: port });
    await s.runtime.start({ message: "go" });
    await s.drain();
    await s.runtime.abort("stop");
    const before = kinds(s);
    expect(before.at(-1)).toBe("run.aborted");
    const call = created[0]?.params as ToolWorkflowParams;
    await s.runtime.receiveToolResult({ call, outcome: { type: "completed", result: 1 } });
    await s.drain();
    expect(kinds(s)).toEqual(before);
  });

  for (const mode of ["with_message", "from_checkpoint"] as const) {
    it(`a resume ${mode} of a waiting or interrupted run fails its open call (superseded) before run.resumed; the late result records nothing`, async () => {
      for (const interrupt of [false, true]) {
        const { port, created } = recordingPort();
        const s = createTestSession(agent, { workflows: port });
        await s.runtime.start({ message: "go" });
        await s.drain();
        if (interrupt) await s.runtime.interrupt("pause");
        const before = kinds(s).length;
        const start = listCheckpoints(s.sql, 0, 10)[0]?.id;
        await s.runtime.resume(
          mode === "with_message" ? { mode, message: "again" } : { mode, checkpoint: start },
        );
        const added = s.runtime.ledger.read(0, 1000).slice(before);
        expect(added.map((e) => e.kind).filter((k) => k !== "state.updated")).toEqual([
          "tool.failed",
          "run.resumed",
        ]);
        expect(added[0]?.data).toMatchObject({ step: 1, error: { code: "superseded" } });
        const call = created[0]?.params as ToolWorkflowParams;
        const after = kinds(s).length;
        await s.runtime.receiveToolResult({ call, outcome: { type: "completed", result: 1 } });
        expect(kinds(s)).toHaveLength(after);
      }
    });
  }

  it("a result resumes no run that still waits on a delegated call of another step", async () => {
    const { port, created } = recordingPort();
    const s = createTestSession(agent, { workflows: port });
    await s.runtime.start({ message: "go" });
    await s.drain();
    const first = created[0]?.params as ToolWorkflowParams;
    // The run left step 1 with its call still delegated and waits on step 2's call (what a
    // resume with a message did before it settled the calls it left; no command does now).
    const runId = first.runId;
    const callId = "call_b";
    const args = { n: 2 };
    s.runtime.ledger.append([
      { kind: "step.started", runId, data: { step: 2, attempt: 1 } },
      {
        kind: "model.completed",
        runId,
        data: {
          step: 2,
          text: "",
          toolCalls: [{ callId, name: "crunch", args }],
          finishReason: "tool-calls",
          usage: { inputTokens: 0, outputTokens: 0 },
          model: "scripted",
        },
      },
      {
        kind: "tool.started",
        runId,
        data: { step: 2, callId, name: "crunch", args, effect: "pure", idempotencyKey: "k" },
      },
      {
        kind: "workflow.started",
        runId,
        data: { step: 2, callId, name: "crunch", instanceId: "i2" },
      },
      { kind: "run.waiting", runId, data: { reason: "workflow" } },
    ]);
    await s.runtime.receiveToolResult({ call: first, outcome: { type: "completed", result: 1 } });
    await s.drain();
    expect(kinds(s).slice(-2)).toEqual(["run.waiting", "tool.completed"]);
    expect(latestRun(s.sql)).toMatchObject({ status: "waiting", step: 2 });
    const second = { ...first, step: 2, callId, args };
    await s.runtime.receiveToolResult({ call: second, outcome: { type: "completed", result: 2 } });
    expect(kinds(s).slice(-2)).toEqual(["tool.completed", "run.resumed"]);
  });

  it("without the tool Workflow executor (toolWorkflows) the call fails with what to export, even with a port", async () => {
    // SessionRuntimeBase as the session object builds it in a Worker without createToolWorkflow.
    const { port, created } = recordingPort();
    const s = createTestSession(agent, { workflows: port, toolWorkflows: undefined });
    await s.runtime.start({ message: "go" });
    await s.drain();
    expect(created).toEqual([]);
    const failed = s.runtime.ledger.read(0, 1000).find((e) => e.kind === "tool.failed");
    expect(failed?.data).toMatchObject({
      error: {
        code: "workflows_unavailable",
        message: expect.stringContaining("createToolWorkflow"),
      },
    });
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(kinds(s)).not.toContain("workflow.started");
    expect(dueKinds(s)).toEqual([]);
  });

  it("without a Workflows port the call fails with what to configure", async () => {
    const s = createTestSession(agent);
    await s.runtime.start({ message: "go" });
    await s.drain();
    const failed = s.runtime.ledger.read(0, 1000).find((e) => e.kind === "tool.failed");
    expect(failed?.data).toMatchObject({ error: { code: "workflows_unavailable" } });
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(kinds(s)).not.toContain("workflow.started");
  });

  it("a call a deploy with the executor delegated fails on a deploy without it, from its left create row", async () => {
    // The create throws (transient): the row stays, due again after its backoff.
    const { port } = recordingPort();
    const s = createTestSession(agent, {
      workflows: {
        ...port,
        create: async () => {
          throw new Error("Workflows is unreachable");
        },
      },
    });
    await s.runtime.start({ message: "go" });
    await s.drain();
    expect(kinds(s)).toContain("workflow.started");
    expect(dueKinds(s)).toContain("workflow.create");
    const without = s.restart({ toolWorkflows: undefined });
    s.clock.advance(CHECK_MS);
    await without.runtime.alarm();
    await without.drain();
    const failed = without.runtime.ledger.read(0, 1000).find((e) => e.kind === "tool.failed");
    expect(failed?.data).toMatchObject({
      error: {
        code: "workflows_unavailable",
        message: expect.stringContaining("createToolWorkflow"),
      },
    });
    expect(latestRun(without.sql)?.status).toBe("completed");
  });

  it("a call no instance can be created for records no workflow.started: its tool.failed follows its tool.started", async () => {
    // A port whose binding is missing says so itself (the Cloudflare port names its binding).
    const { port, created } = recordingPort();
    const missing = { code: "workflows_unavailable", message: "the binding MY_FLOW is missing" };
    const cases = [
      createTestSession(agent, { workflows: port, toolWorkflows: undefined }),
      createTestSession(agent),
      createTestSession(agent, { workflows: { ...port, unavailable: missing } }),
    ];
    for (const s of cases) {
      await s.runtime.start({ message: "go" });
      await s.drain();
      const events = s.runtime.ledger.read(0, 1000);
      const started = events.findIndex((e) => e.kind === "tool.started");
      expect(started).toBeGreaterThan(-1);
      expect(events[started + 1]).toMatchObject({
        kind: "tool.failed",
        seq: (events[started]?.seq ?? 0) + 1,
        data: { name: "crunch", error: { code: "workflows_unavailable" } },
      });
      expect(events.map((e) => e.kind)).not.toContain("workflow.started");
      expect(events.at(-1)?.kind).toBe("run.completed");
    }
    expect(
      cases[2]?.runtime.ledger.read(0, 1000).find((e) => e.kind === "tool.failed")?.data,
    ).toMatchObject({ error: missing });
    expect(created).toEqual([]);
  });
});

const dueKinds = (s: ReturnType<typeof createTestSession>) =>
  s.sql.exec<{ kind: string }>("SELECT kind FROM due_work ORDER BY id").map((r) => r.kind);

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a workflow call that no longer waits is not created", () => {
  it("an abort right after workflow.started commits: create is never called, the call fails with the run, nothing follows run.aborted", async () => {
    const { port, created } = recordingPort();
    const s = createTestSession(agent, {
      workflows: port,
      faults: (point) => {
        if (point === "after-tool-started") void s.runtime.abort("stop");
      },
    });
    await s.runtime.start({ message: "go" });
    await s.drain();
    expect(created).toHaveLength(0);
    const after = kinds(s);
    // The delegated call ends with the run: failed with the abort's reason, then run.aborted.
    expect(after.slice(-4)).toEqual([
      "tool.started",
      "workflow.started",
      "tool.failed",
      "run.aborted",
    ]);
    expect(dueKinds(s)).toEqual([]);
  });

  it("an abort between the decision and the commit of the tool step (the instance id's digest): nothing is appended", async () => {
    const { port, created } = recordingPort();
    const s = createTestSession(agent, { workflows: port });
    const digest = crypto.subtle.digest.bind(crypto.subtle);
    vi.spyOn(crypto.subtle, "digest").mockImplementationOnce(async (algorithm, data) => {
      void s.runtime.abort("stop");
      return digest(algorithm, data);
    });
    await s.runtime.start({ message: "go" });
    await s.drain();
    expect(kinds(s).at(-1)).toBe("run.aborted");
    expect(kinds(s)).not.toContain("tool.started");
    expect(dueKinds(s)).toEqual([]);
    expect(created).toHaveLength(0);
  });
});

describe("a workflow call never waits forever", () => {
  it("a create that keeps failing fails the call with workflow_create_failed, logged, and the run continues", async () => {
    const { logger, errors } = recordingLogger();
    let attempts = 0;
    const port: ToolWorkflowPort = {
      async create() {
        attempts++;
        throw new Error("params too large");
      },
      async wake() {
        throw new Error("never created");
      },
      async status() {
        throw new Error("never created");
      },
    };
    const s = createTestSession(agent, {
      workflows: port,
      logger,
      pump: { maxAttempts: 3, backoffBaseMs: 10, backoffMaxMs: 10 },
    });
    await s.runtime.start({ message: "go" });
    for (let i = 0; i < 5; i++) {
      await s.drain();
      s.clock.advance(10);
    }
    await s.drain();
    expect(attempts).toBe(3);
    const failed = s.runtime.ledger.read(0, 1000).find((e) => e.kind === "tool.failed");
    expect(failed?.data).toMatchObject({
      error: {
        code: "workflow_create_failed",
        message: expect.stringContaining("params too large"),
      },
    });
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(errors.map((e) => e.message)).toContain(
      "a tool's Workflow instance could not be created; the call fails",
    );
    expect(dueKinds(s)).toEqual([]);
  });

  it("a lost report: the check records the completed instance's output", async () => {
    const { port, instance } = recordingPort();
    const s = createTestSession(agent, { workflows: port, workflowCheckMs: CHECK_MS });
    await s.runtime.start({ message: "go" });
    await s.drain();
    expect(dueKinds(s)).toEqual(["workflow.check"]);
    s.clock.advance(CHECK_MS);
    await s.drain();
    expect(instance.checks).toBe(1);
    expect(latestRun(s.sql)?.status).toBe("waiting");
    instance.status = { status: "complete", output: { type: "completed", result: 42 } };
    s.clock.advance(CHECK_MS);
    await s.drain();
    expect(instance.checks).toBe(2);
    const events = s.runtime.ledger.read(0, 1000);
    expect(events.filter((e) => e.kind === "tool.completed").map((e) => e.data)).toEqual([
      expect.objectContaining({ result: 42 }),
    ]);
    expect(events.at(-1)).toMatchObject({
      kind: "run.completed",
      data: { output: "Answer: [42]" },
    });
    expect(dueKinds(s)).toEqual([]);
  });

  it("a check that finds the instance not finished wakes it (a stalled instance goes on), never through a create; a finished one is not woken", async () => {
    const { port, created, woken, instance } = recordingPort();
    const s = createTestSession(agent, { workflows: port, workflowCheckMs: CHECK_MS });
    await s.runtime.start({ message: "go" });
    await s.drain();
    expect(created).toHaveLength(1);
    for (const status of ["running", "waiting", "queued"]) {
      instance.status = { status };
      s.clock.advance(CHECK_MS);
      await s.drain();
    }
    // The create of the call's own instance, then one wake per check, all of the same instance.
    expect(created).toHaveLength(1);
    expect(woken).toEqual(Array(3).fill(created[0]?.id));
    expect(latestRun(s.sql)?.status).toBe("waiting");
    instance.status = { status: "complete", output: { type: "completed", result: 42 } };
    s.clock.advance(CHECK_MS);
    await s.drain();
    expect(created).toHaveLength(1);
    expect(woken).toHaveLength(3);
    const events = s.runtime.ledger.read(0, 1000);
    expect(events.filter((e) => e.kind === "tool.completed")).toHaveLength(1);
    expect(events.at(-1)?.kind).toBe("run.completed");
  });

  it("a new session object checks each open call at once, once per start: an unfinished instance is woken, a finished one recorded and not woken", async () => {
    const { port, created, woken, instance } = recordingPort();
    const s = createTestSession(agent, {
      workflows: port,
      workflowCheckMs: CHECK_MS,
      singleInstance: true,
    });
    await s.runtime.start({ message: "go" });
    await s.drain();
    expect(created).toHaveLength(1);
    // The object starts again (no time passes): its first alarm checks the call.
    const started = async (next: typeof s) => {
      await new Promise((settle) => setTimeout(settle, 20));
      await next.drain();
      return next;
    };
    const again = await started(s.restart());
    expect(instance.checks).toBe(1);
    expect(woken).toEqual([created[0]?.id]);
    // Once per start: more alarms of the same object check nothing until the interval.
    await again.runtime.alarm();
    await again.drain();
    expect(instance.checks).toBe(1);
    expect(again.wakeAt()).toBe(again.clock.now() + CHECK_MS);
    // The instance finished meanwhile and its report was lost: the next start records it.
    instance.status = { status: "complete", output: { type: "completed", result: 42 } };
    const third = await started(again.restart());
    expect(instance.checks).toBe(2);
    expect(woken).toHaveLength(1);
    const events = third.runtime.ledger.read(0, 1000);
    expect(events.filter((e) => e.kind === "tool.completed")).toHaveLength(1);
    expect(events.at(-1)?.kind).toBe("run.completed");
    // A start after the call has its result reads no status.
    await started(third.restart());
    expect(instance.checks).toBe(2);
    expect(dueKinds(third)).toEqual([]);
  });

  it("an errored or terminated instance fails the call with workflow_failed and its error", async () => {
    for (const status of ["errored", "terminated"]) {
      const { port, instance } = recordingPort();
      const s = createTestSession(agent, { workflows: port, workflowCheckMs: CHECK_MS });
      await s.runtime.start({ message: "go" });
      await s.drain();
      instance.status = { status, error: { message: "the step ran out of retries" } };
      s.clock.advance(CHECK_MS);
      await s.drain();
      const failed = s.runtime.ledger.read(0, 1000).find((e) => e.kind === "tool.failed");
      expect(failed?.data).toMatchObject({
        error: {
          code: "workflow_failed",
          message: expect.stringContaining(`${status}: the step ran out of retries`),
        },
      });
      expect(latestRun(s.sql)?.status).toBe("completed");
    }
  });

  it("after the report arrived the check neither reads the status nor adds events", async () => {
    const { port, created, instance } = recordingPort();
    const s = createTestSession(agent, { workflows: port, workflowCheckMs: CHECK_MS });
    await s.runtime.start({ message: "go" });
    await s.drain();
    const call = created[0]?.params as ToolWorkflowParams;
    await s.runtime.receiveToolResult({ call, outcome: { type: "completed", result: 42 } });
    await s.drain();
    const before = kinds(s);
    instance.status = { status: "complete", output: { type: "completed", result: -1 } };
    s.clock.advance(CHECK_MS);
    await s.drain();
    expect(instance.checks).toBe(0);
    expect(kinds(s)).toEqual(before);
    expect(dueKinds(s)).toEqual([]);
  });
});
