import type { SessionRuntime } from "../../agent/session-runtime.ts";
import type { StatusView } from "../../agent/session-runtime-options.ts";
import { serveLedgerRead } from "../../streams/ledger-source.ts";
import { validate } from "../read-json.ts";
import type { RouteTable } from "../route.ts";
import { messagesPage, messagesPageQuery } from "../session-pages.ts";

/**
 * `GET .../status`, and the reply of every command that answers with the session's status
 * (interrupt, abort, resume, retry, close): one shape, StatusView (`exists` included).
 */
export type StatusResponse = StatusView;

/** The session's status, and whether anything was ever written to it. */
export function sessionStatus(runtime: SessionRuntime): StatusResponse {
  return runtime.status();
}

/** Reading a session: status, messages, and the ledger itself. */
export const readRoutes: RouteTable = {
  status: {
    GET: (_request, { runtime }) => Response.json(sessionStatus(runtime)),
  },
  messages: {
    GET: (request, { sql }) => {
      const query = validate(
        messagesPageQuery,
        Object.fromEntries(new URL(request.url).searchParams),
        "the messages query",
      );
      return Response.json(messagesPage(sql, query));
    },
  },
  events: {
    GET: (request, { runtime, clock, live }) =>
      serveLedgerRead(request, runtime.ledger, clock, live),
    /** The stream's metadata (PROTOCOL.md 5.5): the same reader, which answers HEAD itself. */
    HEAD: (request, { runtime, clock, live }) =>
      serveLedgerRead(request, runtime.ledger, clock, live),
  },
};
