import { defineTool } from "@durable-agents/core";
import * as z from "zod";

/**
 * A client-side tool: the run waits for its output, which the browser sends (useChat's
 * `onToolCall` + `addToolOutput`, or `resume` with `approvals: [{ callId, approved: true,
 * result }]`). Approved without an output, it answers from the server's clock.
 */
export const browserTime = defineTool({
  name: "browser_time",
  description: "Asks the user's browser for its local time and time zone.",
  input: z.object({}),
  effect: "pure",
  client: true,
  execute: () => ({ time: new Date().toISOString(), timeZone: "UTC (the server's)" }),
});
