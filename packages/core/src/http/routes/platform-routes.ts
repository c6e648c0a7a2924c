import * as z from "zod";
import { encodeOffset } from "../../ledger/offset.ts";
import { listMessages } from "../../ledger/projections/messages.ts";
import { latestRun } from "../../ledger/projections/runs.ts";
import { LIMITS } from "../limits.ts";
import { readBody } from "../read-json.ts";
import type { RouteTable } from "../route.ts";
import { usageView } from "../usage-view.ts";

const SNAPSHOT_MESSAGES = 10_000;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$/;

const metricSchema = z.object({
  metric: z.string().regex(NAME, "metric must be 1-100 letters, digits or _ . : / -"),
  value: z.number().finite(),
  tags: z
    .record(
      z.string().regex(NAME, "a tag name must be 1-100 letters, digits or _ . : / -"),
      z.string().max(200),
    )
    .refine((tags) => Object.keys(tags).length <= 20, "at most 20 tags")
    .optional(),
});

/** Whole-session views: a consistent snapshot, and usage with its roll-up. */
export const platformRoutes: RouteTable = {
  snapshot: {
    // One synchronous read: no append can interleave. The offset is still taken
    // last, so a reader that continues from it can never skip an event.
    GET: (_request, { runtime, sql }) => {
      const messages = listMessages(sql, 0, SNAPSHOT_MESSAGES);
      const { state, version } = runtime.state.current();
      const status = runtime.status();
      const offset = encodeOffset(runtime.ledger.tail);
      return Response.json({ messages, state, stateVersion: version, status, offset });
    },
  },
  usage: {
    GET: (_request, { sql, prices }) => Response.json(usageView(sql, prices)),
    /** Records a custom metric as a `usage.recorded` event (attached to the latest run, if any). */
    POST: async (request, { runtime, sql }) => {
      const body = await readBody(request, metricSchema, "the usage body", {
        maxBytes: LIMITS.maxBodyBytes,
      });
      const data = {
        metric: body.metric,
        value: body.value,
        ...(body.tags ? { tags: body.tags } : {}),
      };
      const [event] = runtime.ledger.append([
        { kind: "usage.recorded", runId: latestRun(sql)?.runId ?? null, data },
      ]);
      return Response.json(
        { offset: encodeOffset(event?.seq ?? runtime.ledger.tail) },
        { status: 201 },
      );
    },
  },
};
