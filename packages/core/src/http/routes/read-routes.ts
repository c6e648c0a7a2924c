import * as z from "zod";
import type { StatusView } from "../../agent/session-runtime-options.ts";
import { BadRequestError } from "../../errors/http-errors.ts";
import { listMessages, listMessagesBefore } from "../../ledger/projections/messages.ts";
import { serveLedgerRead } from "../../streams/ledger-source.ts";
import { LIMITS } from "../limits.ts";
import { validate } from "../read-json.ts";
import type { RouteTable } from "../route.ts";

const pageSchema = z.object({
  cursor: z
    .string()
    .regex(/^\d{1,12}$/, "cursor must be a nextCursor value from an earlier page")
    .optional(),
  before: z
    .string()
    .regex(/^(?:\d{1,12}|end)$/, 'before must be a message index, a prevCursor value, or "end"')
    .optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.maxMessagesPage).optional(),
});

/**
 * `GET .../status`. `exists: false`: the ledger has no event yet (nothing was started, forked
 * or written), so a mistyped id is told apart from an idle session; `POST runs` still starts
 * one there.
 */
export type StatusResponse = StatusView & { readonly exists: boolean };

/** Reading a session: status, messages, and the ledger itself. */
export const readRoutes: RouteTable = {
  status: {
    GET: (_request, { runtime }) => {
      const status: StatusResponse = { ...runtime.status(), exists: runtime.ledger.tail > 0 };
      return Response.json(status);
    },
  },
  messages: {
    GET: (request, { sql }) => {
      const query = validate(
        pageSchema,
        Object.fromEntries(new URL(request.url).searchParams),
        "the messages query",
      );
      const limit = query.limit ?? 50;
      if (query.before !== undefined) {
        if (query.cursor !== undefined)
          throw new BadRequestError("invalid_request", 'give "cursor" or "before", not both');
        // Backward: the newest `limit` messages before `before` ("end": of all), oldest first.
        const before = query.before === "end" ? null : Number(query.before);
        const page = listMessagesBefore(sql, before, limit + 1);
        const messages = page.length > limit ? page.slice(1) : page;
        const first = messages[0]?.index;
        const prevCursor = page.length > limit && first !== undefined ? String(first) : null;
        // The `cursor` that reads forward from this page's end (newer messages, live ones too).
        const nextCursor = String(messages.at(-1)?.index ?? (before === null ? 0 : before - 1));
        return Response.json({ messages, nextCursor, prevCursor });
      }
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
