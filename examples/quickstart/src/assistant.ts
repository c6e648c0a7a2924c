import { defineAgent } from "@durable-agents/core";
import { demoModel } from "./model.ts";
import { browserTime } from "./tools/browser-time.ts";
import { calculator } from "./tools/calculator.ts";
import { clearNotes } from "./tools/clear-notes.ts";
import { notes } from "./tools/notes.ts";

export const assistant = defineAgent({
  name: "assistant",
  system:
    "You are a concise assistant. Use the calculator for arithmetic and the notes tool to remember things.",
  model: demoModel,
  tools: [calculator, notes, clearNotes, browserTime],
  maxSteps: 8,
});
