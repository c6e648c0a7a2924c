import type { ScheduleView } from "../../triggers/schedules.ts";
import { commandRoute } from "../command-route.ts";
import type { RouteTable } from "../route.ts";

/** `GET .../schedules`: every schedule, the stuck claims among them, the registered kinds. */
export interface SchedulesList {
  readonly schedules: ScheduleView[];
  readonly stuck: ScheduleView[];
  readonly kinds: string[];
}

/** Application schedules: list (with stuck claims), create, cancel. */
export const scheduleRoutes: RouteTable = {
  schedules: {
    GET: (_request, { runtime }) => {
      const schedules = runtime.schedules.list();
      const list: SchedulesList = {
        schedules,
        stuck: schedules.filter((s) => s.stuck),
        kinds: runtime.schedules.kinds(),
      };
      return Response.json(list);
    },
    POST: commandRoute("schedule.create", "body"),
    DELETE: commandRoute("schedule.cancel", "query"),
  },
};
