import { defineSubagent } from "@durable-agents/core";
import * as z from "zod";

/** The message a researcher run starts with: the scripted model answers it (model.ts). */
export const RESEARCH_TASK = "Sub-agent task: research";

/**
 * A sub-agent: the call starts a run of the `researcher` agent in a child session (its own
 * Durable Object and ledger, linked from this one), and its answer becomes the call's result.
 * The parent run waits without holding a request open.
 */
export const research = defineSubagent({
  name: "research",
  description: "Asks the researcher agent (a sub-agent in its own session) about a topic.",
  agent: "researcher",
  input: z.object({ topic: z.string().min(1).max(200) }),
  message: ({ topic }) => `${RESEARCH_TASK} ${topic}`,
});
