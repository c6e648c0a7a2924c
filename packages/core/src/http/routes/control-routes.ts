import { commandRoute } from "../command-route.ts";
import { validate } from "../read-json.ts";
import type { RouteTable } from "../route.ts";
import { checkpointsPage, checkpointsPageQuery } from "../session-pages.ts";

/** Resume, retry and checkpoints. */
export const controlRoutes: RouteTable = {
  resume: { POST: commandRoute("resume", "optional-body") },
  retry: { POST: commandRoute("retry", "optional-body") },
  fork: { POST: commandRoute("fork", "body") },
  checkpoints: {
    GET: (request, { sql }) => {
      const query = validate(
        checkpointsPageQuery,
        Object.fromEntries(new URL(request.url).searchParams),
        "the checkpoints query",
      );
      return Response.json(checkpointsPage(sql, query));
    },
  },
};
