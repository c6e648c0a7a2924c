import * as z from "zod";
import { listCheckpoints } from "../../ledger/projections/checkpoints.ts";
import { commandRoute } from "../command-route.ts";
import { validate } from "../read-json.ts";
import type { RouteTable } from "../route.ts";

const pageSchema = z.object({
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, "cursor must be a nextCursor value from an earlier page")
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  runId: z.string().max(100).optional(),
});

/** Resume, retry and checkpoints. */
export const controlRoutes: RouteTable = {
  resume: { POST: commandRoute("resume", "optional-body") },
  retry: { POST: commandRoute("retry", "optional-body") },
  fork: { POST: commandRoute("fork", "body") },
  checkpoints: {
    GET: (request, { sql }) => {
      const query = validate(
        pageSchema,
        Object.fromEntries(new URL(request.url).searchParams),
        "the checkpoints query",
      );
      const limit = query.limit ?? 50;
      const page = listCheckpoints(sql, Number(query.cursor ?? 0), limit + 1, query.runId);
      const checkpoints = page.slice(0, limit);
      const nextCursor = page.length > limit ? String(checkpoints.at(-1)?.seq) : null;
      return Response.json({ checkpoints, nextCursor });
    },
  },
};
