import { defineAgent } from "@durable-agents/core";
import { demoModel } from "./model.ts";

/** The sub-agent behind the `research` tool: each call is a run in a child session. */
export const researcher = defineAgent({
  name: "researcher",
  system: "You research one topic and answer in two sentences.",
  model: demoModel,
  maxSteps: 4,
});
