/**
 * A tool that throws fails its call, which the model sees, whatever the length of its message
 * (tool-runner.ts: a throw becomes a failed outcome; none crashes the run). A thrown message has
 * no bound of its own (an upstream error page, say): it is kept to MAX_TOOL_ERROR_CHARS, marked
 * when cut, so it cannot make the `tool.failed` event larger than the event limit.
 */
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { defineAgent, defineTool, latestRun, scriptedModel } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { MAX_TOOL_ERROR_CHARS } from "../src/validation/fields.ts";

const loud = defineTool({
  name: "loud",
  description: "fails with a long message",
  input: z.object({}),
  effect: "pure",
  execute: () => {
    throw new Error(`upstream said: ${"x".repeat(1_100_000)}`);
  },
});

const agent = defineAgent({
  name: "errs",
  system: "test",
  tools: [loud],
  model: scriptedModel({
    rules: [
      ({ turn }) => (turn === 0 ? { toolCalls: [{ name: "loud", args: {} }] } : { text: "done" }),
    ],
  }),
});

describe("a tool's thrown error of any length", () => {
  it("fails the call with the message cut and marked, and the run goes on", async () => {
    const s = createTestSession(agent);
    await s.runtime.start({ message: "go" });
    await s.drain();
    const events = s.runtime.ledger.read(0);
    expect(events.map((e) => e.kind)).not.toContain("run.failed");
    const failed = events.find((e) => e.kind === "tool.failed");
    if (!failed) throw new Error("no tool.failed");
    const message = (failed.data as { error: { code: string; message: string } }).error;
    expect(message.code).toBe("tool_error");
    expect(message.message.length).toBe(MAX_TOOL_ERROR_CHARS);
    expect(message.message.startsWith("upstream said: xxx")).toBe(true);
    expect(message.message.endsWith("…")).toBe(true);
    expect(latestRun(s.sql)?.status).toBe("completed");
  });
});
