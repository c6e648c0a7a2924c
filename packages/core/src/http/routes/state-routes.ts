import { encodeOffset } from "../../ledger/offset.ts";
import { commandRoute } from "../command-route.ts";
import type { RouteTable } from "../route.ts";

/** The application state: read it, or replace it with compare-and-set (the `state.set` command). */
export const stateRoutes: RouteTable = {
  state: {
    // One synchronous read, offset last: GET .../events from it sees every later write.
    GET: (_request, { runtime }) => {
      const { state, version } = runtime.state.current();
      return Response.json({ state, version, offset: encodeOffset(runtime.ledger.tail) });
    },
    /** 409 `version_conflict` (details.currentVersion) when the state moved since it was read. */
    PUT: commandRoute("state.set", "body"),
  },
};
