import type { StatusView } from "../../agent/session-runtime-options.ts";
import type { JsonValue } from "../../ledger/events.ts";
import { encodeOffset } from "../../ledger/offset.ts";
import { listMessages, type Message } from "../../ledger/projections/message-reads.ts";
import { commandRoute } from "../command-route.ts";
import type { RouteTable } from "../route.ts";
import { usageView } from "../usage-view.ts";

const SNAPSHOT_MESSAGES = 10_000;

/** `GET .../snapshot`: the whole session as of one offset, read in one synchronous step. */
export interface SessionSnapshot {
  /** The conversation, oldest first, at most 10,000 messages. */
  readonly messages: Message[];
  readonly state: JsonValue;
  readonly stateVersion: number;
  readonly status: StatusView;
  /** Continue reading the ledger from here to see what came after the snapshot. */
  readonly offset: string;
}

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
      const snapshot: SessionSnapshot = { messages, state, stateVersion: version, status, offset };
      return Response.json(snapshot);
    },
  },
  usage: {
    GET: (_request, { sql, prices }) => Response.json(usageView(sql, prices)),
    /** Records a custom metric as a `usage.recorded` event (attached to the latest run, if any). */
    POST: commandRoute("usage.record", "body"),
  },
};
