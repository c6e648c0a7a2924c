import * as z from "zod";
import { encodeOffset } from "../../ledger/offset.ts";
import { LIMITS } from "../limits.ts";
import { readBody } from "../read-json.ts";
import type { RouteTable } from "../route.ts";

const putSchema = z.object({
  state: z.json({ error: "send the whole new state as JSON (null is a value; absent is not)" }),
  expectedVersion: z
    .number({ error: "send expectedVersion: the version GET .../state returned with the state" })
    .int()
    .nonnegative(),
});

/** The application state: read it, or replace it with compare-and-set. */
export const stateRoutes: RouteTable = {
  state: {
    // One synchronous read, offset last: GET .../events from it sees every later write.
    GET: (_request, { runtime }) => {
      const { state, version } = runtime.state.current();
      return Response.json({ state, version, offset: encodeOffset(runtime.ledger.tail) });
    },
    /** 409 `version_conflict` (details.currentVersion) when the state moved since it was read. */
    PUT: async (request, { runtime }) => {
      const body = await readBody(request, putSchema, "the state body", {
        maxBytes: LIMITS.maxStateBodyBytes,
      });
      const { version, seq } = runtime.state.compareAndSet(body.state, body.expectedVersion);
      return Response.json({ version, offset: encodeOffset(seq) });
    },
  },
};
