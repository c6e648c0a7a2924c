import { defineTool } from "@durable-agents/core";
import * as z from "zod";

/**
 * A tool the client answers: the run waits for it like an approval, and the browser sends
 * the output (useChat's `addToolOutput`, or `resume` with `approvals: [{ callId, approved:
 * true, result }]`). Approved without an output, it answers from the server's clock.
 */
export const browserTime = defineTool({
  name: "browser_time",
  description: "Asks the user's browser for its local time and time zone.",
  input: z.object({}),
  effect: "pure",
  needsApproval: true,
  execute: () => ({ time: new Date().toISOString(), timeZone: "UTC (the server's)" }),
});
