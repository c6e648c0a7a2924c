import { defineAgent, scriptedModel } from "@durable-agents/core";
import { addTool } from "../fixtures/add-tool.ts";

/** Steps of the Node bench's "work" run (bench/step-cost.ts). */
export const STEPS = 6;

/**
 * A two-step run (one tool call, then the answer) served before a measured "work" run, so the
 * object is warm for it: each sample opens a new connection, whose statement cache (like a woken
 * Durable Object's) is empty, and a one-step warm-up never prepares the tool path's statements.
 */
export const WARM_TOOL_RUN = "work 2";

/**
 * "work": STEPS steps (STEPS-1 tool calls, then an answer); "work N": N steps the same way.
 * Anything else: one step.
 */
export const benchAgent = defineAgent({
  name: "bench",
  system: "You are a benchmark.",
  tools: [addTool],
  maxSteps: 100,
  model: scriptedModel({
    chunkSize: 16,
    rules: [
      ({ userText, turn }) => {
        const work = userText.match(/^work(?: (\d+))?$/);
        if (!work) return undefined;
        if (turn < Number(work[1] ?? STEPS) - 1)
          return { text: `Step ${turn}. `, toolCalls: [{ name: "add", args: { a: turn, b: 1 } }] };
        return { text: "Done with the work, here is a short answer." };
      },
      () => ({ text: "A short reply of about the usual length for a chat turn." }),
    ],
  }),
});

/** The same agent on the Workflow executor (declared from `benchAgent`, not copied). */
export const benchWorkflowAgent = defineAgent({
  ...benchAgent,
  name: "bench-wf",
  executor: "workflow",
});

/** The compaction the bench configures (bench/step-cost.ts, "with compaction" rows). */
export const BENCH_CONTEXT = { keepMessages: 40, compactAfterMessages: 200 } as const;

/**
 * The same agent with context compaction: the default summarizer (the agent's own scripted
 * model, streamed a transcript of the messages it folds in). Declared from `benchAgent`.
 */
export const benchCompactedAgent = defineAgent({
  ...benchAgent,
  name: "bench-ctx",
  context: BENCH_CONTEXT,
});
