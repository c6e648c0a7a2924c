import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  defineAgent,
  defineTool,
  latestRun,
  scriptedModel,
  type ToolWorkflowParams,
  type ToolWorkflowPort,
  workflowInstanceId,
} from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";

/** Never executed here: the port only records the instance it was asked to create. */
const crunch = defineTool({
  name: "crunch",
  description: "A long job",
  executor: "workflow",
  input: z.object({ n: z.number() }),
  effect: "idempotent",
  execute: ({ n }) => n * 2,
});

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

function recordingPort() {
  const created: { id: string; params: ToolWorkflowParams }[] = [];
  const port: ToolWorkflowPort = {
    async create(id, params) {
      created.push({ id, params });
      return undefined;
    },
  };
  return { port, created };
}

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
    expect(id).toBe(await workflowInstanceId("cruncher", "s1", params.runId, params.callId));
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

  it("without a Workflows port the call fails with what to configure", async () => {
    const s = createTestSession(agent);
    await s.runtime.start({ message: "go" });
    await s.drain();
    const failed = s.runtime.ledger.read(0, 1000).find((e) => e.kind === "tool.failed");
    expect(failed?.data).toMatchObject({ error: { code: "workflows_unavailable" } });
    expect(latestRun(s.sql)?.status).toBe("completed");
  });
});
