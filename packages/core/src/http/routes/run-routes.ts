import { commandRoute } from "../command-route.ts";
import type { RouteTable } from "../route.ts";

/** Starting and stopping runs: parsers onto the session commands (core/src/commands/). */
export const runRoutes: RouteTable = {
  runs: { POST: commandRoute("start", "body") },
  interrupt: { POST: commandRoute("interrupt", "optional-body") },
  close: { POST: commandRoute("close", "optional-body") },
  abort: { POST: commandRoute("abort", "optional-body") },
};
