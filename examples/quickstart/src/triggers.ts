import { defineTrigger } from "@durable-agents/core";
import * as z from "zod";

/**
 * The demo's schedule kind: at its time (`at`, `delayMs`) or on every tick of its `cron`,
 * it starts a run with its message, e.g. `POST .../schedules` with
 * `{"kind":"reminder","payload":{"message":"What is 6*7?"},"delayMs":5000}` or
 * `{"kind":"reminder","payload":{"message":"show my notes"},"cron":"0 9 * * MON-FRI"}`
 * (also `"@daily"`, and a `"timeZone"` such as `"Europe/Paris"`).
 * A run already active makes the start fail; the pump retries it with backoff.
 */
export const reminder = defineTrigger({
  kind: "reminder",
  payload: z.object({ message: z.string().min(1).max(2000) }),
  run: async ({ message }, ctx) => {
    await ctx.startRun(message);
  },
});
