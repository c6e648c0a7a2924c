/**
 * Durability waits (`durable`, DO: `storage.sync()`) happen only where a side effect needs
 * them (agent/durability.ts, docs/guarantees.md G3): before an idempotent or irreversible tool
 * runs, after an irreversible tool's result, before any call leaves the object (a sub-agent's
 * start message, a Workflow instance), pure or not; never after a step commits, never for pure
 * inline tools.
 */
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { defineAgent } from "../src/agent/define-agent.ts";
import { defineSubagent } from "../src/agent/define-subagent.ts";
import { defineTool } from "../src/agent/define-tool.ts";
import type { ToolEffect } from "../src/ledger/events.ts";
import { scriptedModel } from "../src/model/scripted-model.ts";
import { createTestSession } from "../src/testing/test-session.ts";

/** A pure tool's call handed to a sub-agent (a delegation declared by hand, effect and all). */
const pureSubagent = {
  ...defineSubagent({
    name: "act",
    description: "Asks another agent",
    agent: "helper",
    input: z.object({ n: z.number() }),
    message: ({ n }) => `n is ${n}`,
  }),
  effect: "pure" as const,
};

/** A pure tool on a Workflow instance: its call leaves the object although its effect is pure. */
const pureWorkflowTool = defineTool({
  name: "act",
  description: "A long pure job",
  executor: "workflow",
  input: z.object({ n: z.number() }),
  effect: "pure",
  execute: ({ n }) => n,
});

/** One call of a pure tool that leaves the object: what happened when, until it was sent out. */
async function traceSentOut(via: "subagent" | "workflow"): Promise<string[]> {
  const log: string[] = [];
  const agent = defineAgent({
    name: "durability",
    system: "test",
    tools: [via === "subagent" ? pureSubagent : pureWorkflowTool],
    model: scriptedModel({ rules: [() => ({ toolCalls: [{ name: "act", args: { n: 1 } }] })] }),
  });
  const s = createTestSession(agent, {
    durable: async () => {
      const last = s.runtime.ledger.read(s.runtime.ledger.tail - 1, 1)[0];
      log.push(`durable after ${last?.kind}`);
    },
    subagents: {
      send: async (message) => {
        log.push(`sent ${message.type}`);
        return undefined;
      },
    },
    workflows: {
      create: async () => {
        log.push("instance created");
        return undefined;
      },
      wake: async () => undefined,
      status: async () => ({ status: "running" }),
    },
  });
  await s.runtime.start({ message: "go" });
  await s.drain();
  return log;
}

/** A two-step run (one call of a tool with `effect`, then the answer): what ran when. */
async function trace(effect: ToolEffect): Promise<string[]> {
  const log: string[] = [];
  const tool = defineTool({
    name: "act",
    description: "Does something",
    input: z.object({ n: z.number() }),
    effect,
    execute: ({ n }) => {
      log.push("tool runs");
      return n;
    },
  });
  const agent = defineAgent({
    name: "durability",
    system: "test",
    tools: [tool],
    model: scriptedModel({
      rules: [
        ({ turn }) =>
          turn === 0 ? { toolCalls: [{ name: "act", args: { n: 1 } }] } : { text: "done" },
      ],
    }),
  });
  const s = createTestSession(agent, {
    durable: async () => {
      const last = s.runtime.ledger.read(s.runtime.ledger.tail - 1, 1)[0];
      log.push(`durable after ${last?.kind}`);
    },
  });
  await s.runtime.start({ message: "go" });
  await s.drain();
  expect(s.runtime.status().status).toBe("completed");
  return log;
}

describe("durability waits", () => {
  it("a pure tool runs without one, and no step end waits", async () => {
    expect(await trace("pure")).toEqual(["tool runs"]);
  });

  it("an idempotent tool runs only after its tool.started is durable", async () => {
    expect(await trace("idempotent")).toEqual(["durable after tool.started", "tool runs"]);
  });

  it("an irreversible tool also waits for its result to be durable", async () => {
    expect(await trace("irreversible")).toEqual([
      "durable after tool.started",
      "tool runs",
      "durable after tool.completed",
    ]);
  });

  it("a pure tool's call handed to a sub-agent waits: its start message leaves the object", async () => {
    expect(await traceSentOut("subagent")).toEqual([
      "durable after subagent.started",
      "sent start",
    ]);
  });

  it("a pure Workflow tool's call waits: its instance is created outside the object", async () => {
    expect(await traceSentOut("workflow")).toEqual([
      "durable after workflow.started",
      "instance created",
    ]);
  });
});
