/**
 * A Workflow step retried while its first model call still streams (the platform restarted the
 * instance mid-step: the abandoned execution's call runs on, as an evicted isolate's fetch
 * does). The newer attempt answers; what the older call streams afterwards is not the step's
 * answer: the conversation and the next prompt show the answer the step committed, once.
 */
import type { LanguageModelV4, LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { defineAgent, defineTool, latestRun } from "../src/index.ts";
import { readPrompt } from "../src/ledger/projections/message-prompts.ts";
import { listMessages } from "../src/ledger/projections/message-reads.ts";
import { createTestSession, type TestSession } from "../src/testing/index.ts";
import { sessionWorkflows, settleDue } from "./fixtures.ts";

const usage = {
  inputTokens: { total: 5, noCache: 5, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 3, text: 3, reasoning: 0 },
};

function streamOf(parts: (LanguageModelV4StreamPart | (() => Promise<void>))[]) {
  return new ReadableStream<LanguageModelV4StreamPart>({
    async start(controller) {
      for (const part of parts) {
        if (typeof part === "function") await part();
        else controller.enqueue(part);
      }
      controller.close();
    },
  });
}

const text = (delta: string): LanguageModelV4StreamPart => ({
  type: "text-delta",
  id: "t0",
  delta,
});

describe("a model call of an attempt the step no longer runs", () => {
  it("streams nothing into the step's answer once a newer attempt started", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const model: LanguageModelV4 = {
      specificationVersion: "v4",
      provider: "gated",
      modelId: "gated",
      supportedUrls: {},
      async doGenerate() {
        throw new Error("stream only");
      },
      async doStream(options) {
        calls++;
        const start: LanguageModelV4StreamPart[] = [
          { type: "stream-start", warnings: [] },
          { type: "text-start", id: "t0" },
        ];
        if (calls === 1)
          // The first attempt: one delta, then it hangs until the newer attempt has answered.
          return {
            stream: streamOf([
              ...start,
              text("stale "),
              () => gate,
              text("late"),
              { type: "text-end", id: "t0" },
              { type: "finish", finishReason: { unified: "stop", raw: undefined }, usage },
            ]),
          };
        const tools = options.prompt.filter((m) => m.role === "tool").length;
        if (tools === 0)
          return {
            stream: streamOf([
              ...start,
              text("fresh "),
              text("answer"),
              { type: "text-end", id: "t0" },
              { type: "tool-call", toolCallId: "c1", toolName: "noop", input: "{}" },
              { type: "finish", finishReason: { unified: "tool-calls", raw: undefined }, usage },
            ]),
          };
        return {
          stream: streamOf([
            ...start,
            text("done"),
            { type: "text-end", id: "t0" },
            { type: "finish", finishReason: { unified: "stop", raw: undefined }, usage },
          ]),
        };
      },
    };
    const noop = defineTool({
      name: "noop",
      description: "does nothing",
      input: z.object({}),
      effect: "pure",
      execute: async () => {
        // The older call streams on while the step's tools run.
        release();
        await new Promise((r) => setTimeout(r, 20));
        return "ok";
      },
    });
    const agent = defineAgent({
      name: "gated",
      system: "",
      executor: "workflow",
      tools: [noop],
      model,
    });
    let s: TestSession | undefined;
    let restarted = false;
    const flows = sessionWorkflows(() => s as TestSession);
    s = createTestSession(agent, {
      agentWorkflows: flows,
      coalesce: { maxDelayMs: 50, maxChars: 1 },
      faults: (point) => {
        if (point !== "mid-stream" || restarted) return;
        restarted = true;
        const instance = [...flows.instances.values()][0];
        queueMicrotask(() => instance?.restart());
      },
    });
    await s.runtime.start({ message: "go" });
    await settleDue(() => s as TestSession, flows);
    await new Promise((r) => setTimeout(r, 50));
    await settleDue(() => s as TestSession, flows);
    // What step 1 streamed after its attempt 2 started: that attempt's answer, nothing else.
    const events = s.runtime.ledger.read(0);
    const second = events.findIndex((e) => e.kind === "step.started" && e.data.attempt === 2);
    expect(second).toBeGreaterThan(0);
    const streamed = events
      .slice(second)
      .flatMap((e) => (e.kind === "model.delta" && e.data.step === 1 ? [e.data.text] : []));
    expect(streamed.join("")).toBe("fresh answer");
    console.log(
      events.map((e) => `${e.seq} ${e.kind} ${JSON.stringify(e.data).slice(0, 80)}`).join("\n"),
    );
    expect(restarted).toBe(true);
    expect(latestRun(s.sql)?.status).toBe("completed");
    const answers = listMessages(s.sql, 0, 100)
      .filter((m) => m.role === "assistant")
      .map((m) => m.parts.map((p) => (p.type === "text" ? p.text : p.type)).join("|"));
    expect(answers).toEqual(["fresh answer|tool-call", "done"]);
    const prompt = JSON.stringify(readPrompt(s.sql).messages);
    expect(prompt).not.toContain("late");
  });
});
