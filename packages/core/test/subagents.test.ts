import { verifyEvents } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";
import { from, lastValueFrom, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  type AgentDefinition,
  defineAgent,
  defineSubagent,
  defineTool,
  latestRun,
  listMessages,
  type SessionRuntimeOptions,
  type SubagentMessage,
  scriptedModel,
  usageSummary,
} from "../src/index.ts";
import { isWaitingForClient, movesOnItsOwn } from "../src/ledger/wait-reasons.ts";
import {
  createTestSession,
  ManualClock,
  NodeSqlPort,
  type TestSession,
} from "../src/testing/index.ts";
import { createAguiProjector } from "../src/wire/agui/agui-projector.ts";
import { endsRun } from "../src/wire/replay-end.ts";
import { createUiStreamProjector } from "../src/wire/ui-stream/ui-stream-projector.ts";

const researcher = defineAgent({
  name: "researcher",
  system: "",
  model: scriptedModel({
    rules: [({ userText }) => ({ text: `Findings about ${userText.replace("Research ", "")}.` })],
  }),
});

const lead = defineAgent({
  name: "lead",
  system: "",
  tools: [
    defineSubagent({
      name: "research",
      description: "Researches a topic",
      agent: "researcher",
      input: z.object({ topic: z.string() }),
      message: ({ topic }) => `Research ${topic}`,
    }),
  ],
  model: scriptedModel({
    rules: [
      ({ turn, toolResults }) =>
        turn === 0
          ? {
              toolCalls: [
                { name: "research", args: { topic: "otters" } },
                { name: "research", args: { topic: "beavers" } },
              ],
            }
          : { text: `Summary: ${toolResults.map((r) => r.output).join(" ")}` },
    ],
  }),
});

/** Sessions of several agents in one process, wired like Durable Objects talking over RPC. */
function world(extra: readonly AgentDefinition[] = [], faults?: SessionRuntimeOptions["faults"]) {
  const clock = new ManualClock();
  const sessions = new Map<string, TestSession>();
  const agents = new Map<string, AgentDefinition>([
    ["lead", lead],
    ["researcher", researcher],
    ...extra.map((a) => [a.name, a] as const),
  ]);
  const delivered: SubagentMessage[] = [];
  const session = (agent: string, id: string): TestSession => {
    const key = `${agent}/${id}`;
    let s = sessions.get(key);
    if (!s) {
      s = createTestSession(
        agents.get(agent)!,
        { sessionId: id, subagents: { send: async (m) => deliver(m) }, faults },
        { sql: new NodeSqlPort(), clock },
      );
      sessions.set(key, s);
    }
    return s;
  };
  const deliver = async (message: SubagentMessage) => {
    delivered.push(message);
    if (message.type === "start") {
      if (!agents.has(message.agent))
        return { code: "agent_not_found", message: `no agent ${message.agent}` };
      await session(message.agent, message.session).runtime.startChild(message);
    } else if (message.type === "cancel") {
      await session(message.agent, message.session).runtime.cancelChild(message);
    } else {
      await session(message.parent.agent, message.parent.session).runtime.receiveReply(message);
    }
    return undefined;
  };
  const settle = async () => {
    for (let round = 0; round < 20; round++) {
      let fired = 0;
      for (const s of sessions.values()) fired += await s.drain();
      if (fired === 0) return;
    }
  };
  return { session, settle, delivered, sessions, clock };
}

describe("sub-agents", () => {
  it("a parent delegates two calls to child sessions, waits, and resumes with their answers and usage", async () => {
    const w = world();
    const parent = w.session("lead", "p1");
    await parent.runtime.start({ message: "compare otters and beavers" });
    await w.settle();
    expect(latestRun(parent.sql)).toMatchObject({ status: "completed" });
    expect(latestRun(parent.sql)?.output).toBe(
      "Summary: Findings about otters. Findings about beavers.",
    );
    expect([...w.sessions.keys()].sort()).toEqual([
      "lead/p1",
      "researcher/p1.call_0_0",
      "researcher/p1.call_0_1",
    ]);
    const kinds = parent.runtime.ledger.read(0).map((e) => e.kind);
    expect(kinds.filter((k) => k === "subagent.started")).toHaveLength(2);
    expect(kinds.filter((k) => k === "subagent.completed")).toHaveLength(2);
    expect(kinds).toContain("run.waiting");
    const usage = usageSummary(parent.sql);
    expect(usage.subagents).toMatchObject([{ agent: "researcher", calls: 2 }]);
    expect(usage.subagents[0]!.outputTokens).toBeGreaterThan(0);
    expect(listMessages(parent.sql, 0, 50).map((m) => m.role)).toEqual([
      "user",
      "assistant",
      "tool",
      "assistant",
    ]);
  });

  it("redelivered messages are absorbed: one child run per call, one answer per call", async () => {
    const w = world();
    const parent = w.session("lead", "p2");
    await parent.runtime.start({ message: "go" });
    await w.settle();
    for (const message of [...w.delivered]) {
      if (message.type === "start")
        await w.session(message.agent, message.session).runtime.startChild(message);
      else if (message.type === "reply") await parent.runtime.receiveReply(message);
    }
    await w.settle();
    const child = w.session("researcher", "p2.call_0_0");
    expect(child.runtime.ledger.read(0).filter((e) => e.kind === "run.started")).toHaveLength(1);
    const completed = parent.runtime.ledger.read(0).filter((e) => e.kind === "subagent.completed");
    expect(completed).toHaveLength(2);
  });

  it("a wait on sub-agents is no pause for the client: the run stays active, one UI message segment and one AG-UI run carry it to the answer", async () => {
    const w = world();
    const parent = w.session("lead", "p3");
    await parent.runtime.start({ message: "compare otters and beavers" });
    await parent.drain();
    const waiting = latestRun(parent.sql);
    expect(waiting).toMatchObject({ status: "waiting", waitingReason: "subagent" });
    expect(movesOnItsOwn(waiting!)).toBe(true);
    expect(isWaitingForClient(waiting!)).toBe(false);
    await w.settle();
    expect(latestRun(parent.sql)?.status).toBe("completed");

    const events = parent.runtime.ledger.read(0);
    const ends = endsRun(parent.sql, waiting!.runId);
    expect(events.filter(ends).map((e) => e.kind)).toEqual(["run.completed"]);

    const ui = createUiStreamProjector();
    const chunks = events.flatMap((e) => ui.map(e)).map((c) => c.type);
    expect(chunks.filter((t) => t === "start")).toHaveLength(1);
    expect(chunks.filter((t) => t === "finish")).toHaveLength(1);
    expect(chunks.filter((t) => t === "tool-output-available")).toHaveLength(2);

    const agui = createAguiProjector({ threadId: "p3" });
    const out = events.flatMap((e) => agui.map(e));
    for (const event of out) expect(EventSchemas.safeParse(event).error).toBeUndefined();
    await lastValueFrom(from(out as never[]).pipe(verifyEvents(false), toArray()));
    const finished = out.filter((e) => e.type === "RUN_FINISHED");
    expect(finished).toEqual([expect.objectContaining({ outcome: { type: "success" } })]);
    const statuses = out.flatMap((e) =>
      e.type === "STATE_DELTA"
        ? (e.delta as { path: string; value: unknown }[]).filter((d) => d.path === "/status")
        : [],
    );
    expect(statuses.map((d) => d.value)).toEqual(["waiting", "running", "completed"]);
  });

  it("a parent run that fails while a call is still delegated fails the call and cancels the child's run", async () => {
    // The child waits for an approval, so it is still working when the parent fails.
    const approver = defineAgent({
      name: "approver",
      system: "",
      tools: [
        defineTool({
          name: "sign",
          description: "Signs, once a human agrees.",
          input: z.object({}),
          effect: "irreversible",
          needsApproval: true,
          execute: () => "signed",
        }),
      ],
      model: scriptedModel({
        rules: [
          ({ turn }) => (turn === 0 ? { toolCalls: [{ name: "sign", args: {} }] } : { text: "ok" }),
        ],
      }),
    });
    // Step 1 delegates to the child and runs a local tool whose step always throws before its
    // result commits: the step is retried until the run fails, with the delegated call open.
    const mixed = defineAgent({
      name: "mixed",
      system: "",
      tools: [
        defineSubagent({
          name: "ask",
          description: "Asks the approver.",
          agent: "approver",
          input: z.object({}),
          message: () => "please sign",
        }),
        defineTool({
          name: "local",
          description: "A local tool.",
          input: z.object({}),
          effect: "pure",
          execute: () => "local",
        }),
      ],
      model: scriptedModel({
        rules: [
          ({ turn }) =>
            turn === 0
              ? {
                  toolCalls: [
                    { name: "ask", args: {} },
                    { name: "local", args: {} },
                  ],
                }
              : { text: "done" },
        ],
      }),
    });
    const w = world([approver, mixed], (point, info) => {
      if (point === "before-tool-commit" && info.sessionId === "m1")
        throw new Error("the step breaks before the local result commits");
    });
    const parent = w.session("mixed", "m1");
    await parent.runtime.start({ message: "go" });
    for (let i = 0; i < 50 && latestRun(parent.sql)?.status !== "failed"; i++) {
      await w.settle();
      w.clock.advance(600_000);
    }
    await w.settle();
    const failed = latestRun(parent.sql);
    expect(failed?.status).toBe("failed");
    const child = w.sessions.get("approver/m1.call_0_0");
    expect(child).toBeDefined();
    const childRun = latestRun(child!.sql);
    expect(childRun?.status).toBe("aborted");
    const aborted = child!.runtime.ledger.read(0).find((e) => e.kind === "run.aborted");
    expect((aborted?.data as { reason?: string } | undefined)?.reason).toContain(failed!.runId);
    const ask = parent.sql.exec<{ status: string }>(
      "SELECT status FROM tool_calls WHERE call_id = 'call_0_0'",
    )[0];
    expect(ask?.status).toBe("failed");
  });
});
