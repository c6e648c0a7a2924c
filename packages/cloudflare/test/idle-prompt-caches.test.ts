import { createAgentServer } from "@durable-agents/cloudflare";
import { defineAgent, scriptedModel } from "@durable-agents/core";
import { describe, expect, it } from "vitest";

/**
 * `createAgentServer({ idlePromptCacheBytes })`: the budget of the class's idle prompt caches
 * (core/src/agent/idle-prompt-caches.ts, tested there with real sessions), read when the class
 * is made, in workerd.
 */
describe("createAgentServer({ idlePromptCacheBytes })", () => {
  const agent = defineAgent({
    name: "budgeted",
    system: "x",
    model: scriptedModel({ turns: [{ text: "x" }] }),
  });

  it("refuses a budget that is not a number of bytes ≥ 0 when the class is made", () => {
    expect(() => createAgentServer({ agents: [agent], idlePromptCacheBytes: -1 })).toThrow(
      RangeError,
    );
    expect(() => createAgentServer({ agents: [agent], idlePromptCacheBytes: Number.NaN })).toThrow(
      /idle prompt cache budget must be a number of bytes ≥ 0, got NaN/,
    );
    expect(createAgentServer({ agents: [agent], idlePromptCacheBytes: 0 }).agents).toEqual([
      "budgeted",
    ]);
  });
});
