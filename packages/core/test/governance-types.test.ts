/**
 * Domains in the type system: an agent that declares domains still takes every other kind
 * of tool (sub-agents, plain tools, AI SDK tools) in both forms of `tools`; a tool naming an
 * undeclared domain is a type error (packages/cloudflare/test/governed-tools.test.ts).
 */
import { tool } from "ai";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { defineAgent, defineSubagent, defineTool, scriptedModel } from "../src/index.ts";

const research = defineSubagent({
  name: "research",
  description: "Researches a topic",
  agent: "researcher",
  input: z.object({ topic: z.string() }),
  message: ({ topic }) => `Research ${topic}`,
});
const plain = defineTool({
  name: "plain",
  description: "x",
  input: z.object({}),
  effect: "pure",
  execute: () => null,
});
const gh = defineTool({
  name: "gh",
  description: "x",
  input: z.object({}),
  effect: "pure",
  authority: "external",
  domains: ["github"],
  execute: () => null,
});
const sdk = tool({ description: "d", inputSchema: z.object({}), execute: async () => 1 });
const a = defineAgent({
  name: "a",
  system: "x",
  model: scriptedModel({ turns: [] }),
  domains: { github: { allow: () => ["x"] } },
  tools: [research, plain, gh],
});
const b = defineAgent({
  name: "b",
  system: "x",
  model: scriptedModel({ turns: [] }),
  domains: { github: { allow: () => ["x"] } },
  tools: { research, plain, gh, sdk },
});

describe("domains in the type system", () => {
  it("an agent with domains takes sub-agents, plain, governed and AI SDK tools", () => {
    expect(a.tools.map((t) => t.name)).toEqual(["research", "plain", "gh"]);
    expect(b.tools.map((t) => t.name)).toEqual(["research", "plain", "gh", "sdk"]);
  });
});
