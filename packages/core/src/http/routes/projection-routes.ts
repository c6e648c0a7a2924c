import type { ProjectionStatus } from "../../app-events/app-projections.ts";
import { commandRoute } from "../command-route.ts";
import type { RouteTable } from "../route.ts";

/** `GET .../projections`: the application projections and whether each needs a rebuild. */
export interface ProjectionsList {
  readonly projections: ProjectionStatus[];
}

/** Application projections: their status, and an explicit rebuild (the `projection.rebuild` command). */
export const projectionRoutes: RouteTable = {
  projections: {
    GET: (_request, { runtime }) => {
      const list: ProjectionsList = { projections: runtime.projections.status() };
      return Response.json(list);
    },
    POST: commandRoute("projection.rebuild", "body"),
  },
};
