import * as z from "zod";
import { listMessages } from "../../ledger/projections/messages.ts";
import { serveLedgerRead } from "../../streams/ledger-source.ts";
import { LIMITS } from "../limits.ts";
import { validate } from "../read-json.ts";
import type { RouteTable } from "../route.ts";

const pageSchema = z.object({
  cursor: z
    .string()
    .regex(/^\d{1,12}$/, "cursor must be a nextCursor value from an earlier page")
    .optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.maxMessagesPage).optional(),
});

/** Reading a session: status, messages, and the ledger itself. */
export const readRoutes: RouteTable = {
  status: { GET: (_request, { runtime }) => Response.json(runtime.status()) },
  messages: {
    GET: (request, { sql }) => {
      const query = validate(
        pageSchema,
        Object.fromEntries(new URL(request.url).searchParams),
        "the messages query",
      );
      const limit = query.limit ?? 50;
      const page = listMessages(sql, Number(query.cursor ?? 0), limit + 1);
      const messages = page.slice(0, limit);
      const nextCursor = page.length > limit ? String(messages.at(-1)?.index) : null;
      return Response.json({ messages, nextCursor });
    },
  },
  events: {
    GET: (request, { runtime, clock, live }) =>
      serveLedgerRead(request, runtime.ledger, clock, live),
  },
};
