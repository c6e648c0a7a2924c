import { defineAgent } from "@durable-agents/core";
import * as z from "zod";
import { demoModel } from "./model.ts";
import { browserTime } from "./tools/browser-time.ts";
import { calculator } from "./tools/calculator.ts";
import { clearNotes } from "./tools/clear-notes.ts";
import { notes } from "./tools/notes.ts";
import { research } from "./tools/research.ts";

export const assistant = defineAgent({
  name: "assistant",
  system:
    "You are a concise assistant. Use the calculator for arithmetic, the notes tool to remember things and the researcher for questions about a topic.",
  model: demoModel,
  tools: [calculator, notes, clearNotes, browserTime, research],
  maxSteps: 8,
  // The application state (GET/PUT .../state): the calculator keeps it up to date.
  initialState: { calculations: 0, lastResult: null },
  stateSchema: z.object({
    calculations: z.number().int().nonnegative(),
    lastResult: z.object({ expression: z.string(), result: z.number() }).nullable(),
  }),
});

/**
 * The same agent on the Workflow executor: each run is an AgentWorkflow instance (worker.ts,
 * binding AGENT_WORKFLOW), one `step.do` per model call and per tool call, while the session
 * object keeps the ledger. Everything else is `assistant`'s, so every route, client and the
 * inspector treat both alike.
 */
export const assistantWf = defineAgent({
  ...assistant,
  name: "assistant-wf",
  executor: "workflow",
});
