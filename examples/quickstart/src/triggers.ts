import { defineTrigger, RetryableError } from "@durable-agents/core";
import * as z from "zod";

/**
 * The demo's schedule kind: at its time (`at`, `delayMs`) or on every tick of its `cron`,
 * it starts a run with its message, e.g. `POST .../schedules` with
 * `{"kind":"reminder","payload":{"message":"What is 6*7?"},"delayMs":5000}` or
 * `{"kind":"reminder","payload":{"message":"show my notes"},"cron":"0 9 * * MON-FRI"}`
 * (also `"@daily"`, and a `"timeZone"` such as `"Europe/Paris"`).
 * `ctx.startRun` starts nothing while a run is active (it answers undefined): the reminder
 * then throws, so the pump retries it with backoff (1 s doubling, 5 attempts) and, if the
 * session stays busy, records `trigger.failed`; a reminder is never dropped silently.
 */
export const reminder = defineTrigger({
  kind: "reminder",
  payload: z.object({ message: z.string().min(1).max(2000) }),
  run: async ({ message }, ctx) => {
    const started = await ctx.startRun(message);
    if (!started) {
      throw new RetryableError(
        "run_active",
        "a run is active in this session; the reminder starts its run once the session is free",
      );
    }
  },
});
