import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  type AgentDefinition,
  defineAgent,
  defineSubagent,
  latestRun,
  listMessages,
  type SubagentMessage,
  scriptedModel,
  usageSummary,
} from "../src/index.ts";
import {
  createTestSession,
  ManualClock,
  NodeSqlPort,
  type TestSession,
} from "../src/testing/index.ts";

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
function world() {
  const clock = new ManualClock();
  const sessions = new Map<string, TestSession>();
  const agents = new Map<string, AgentDefinition>([
    ["lead", lead],
    ["researcher", researcher],
  ]);
  const delivered: SubagentMessage[] = [];
  const session = (agent: string, id: string): TestSession => {
    const key = `${agent}/${id}`;
    let s = sessions.get(key);
    if (!s) {
      s = createTestSession(
        agents.get(agent)!,
        { sessionId: id, subagents: { send: async (m) => deliver(m) } },
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
  return { session, settle, delivered, sessions };
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
});
