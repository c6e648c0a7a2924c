import { commandRoute } from "../command-route.ts";
import type { RouteTable } from "../route.ts";

/** Application schedules: list (with stuck claims), create, cancel. */
export const scheduleRoutes: RouteTable = {
  schedules: {
    GET: (_request, { runtime }) => {
      const schedules = runtime.schedules.list();
      return Response.json({
        schedules,
        stuck: schedules.filter((s) => s.stuck),
        kinds: runtime.schedules.kinds(),
      });
    },
    POST: commandRoute("schedule.create", "body"),
    DELETE: commandRoute("schedule.cancel", "query"),
  },
};
