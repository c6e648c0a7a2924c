import { z } from "zod";
import type { SessionRuntime } from "../agent/session-runtime.ts";
import type { Clock } from "../clock.ts";
import { MethodNotAllowedError, NotFoundError } from "../errors/http-errors.ts";
import { listMessages } from "../ledger/projections/messages.ts";
import type { SqlPort } from "../sql/port.ts";
import { type LiveReadOptions, readLedger } from "./ledger-read.ts";
import { LIMITS } from "./limits.ts";
import { readBody, validate } from "./read-json.ts";

export interface SessionHttpContext {
  readonly runtime: SessionRuntime;
  readonly sql: SqlPort;
  readonly clock: Clock;
  readonly live: LiveReadOptions;
}

const startSchema = z.object({
  input: z.object({
    message: z.string().min(1).max(LIMITS.maxMessageChars),
  }),
});

const reasonSchema = z.object({ reason: z.string().max(1000).optional() });

const pageSchema = z.object({
  cursor: z
    .string()
    .regex(/^\d{1,12}$/, "cursor must be a nextCursor value from an earlier page")
    .optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.maxMessagesPage).optional(),
});

type Route = (request: Request, ctx: SessionHttpContext) => Promise<Response> | Response;

const ROUTES: Record<string, Partial<Record<string, Route>>> = {
  runs: {
    POST: async (request, { runtime }) => {
      const body = await readBody(request, startSchema, "the run start body", {
        maxBytes: LIMITS.maxBodyBytes,
      });
      const started = await runtime.start(body.input);
      const { session, agent } = runtime.status();
      return Response.json({ ...started, session, agent }, { status: 202 });
    },
  },
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
    GET: (request, { runtime, clock, live }) => readLedger(request, runtime.ledger, clock, live),
  },
  interrupt: {
    POST: async (request, { runtime }) => {
      const body = await readBody(request, reasonSchema, "the interrupt body", {
        maxBytes: LIMITS.maxBodyBytes,
        optional: true,
      });
      return Response.json(await runtime.interrupt(body.reason), { status: 202 });
    },
  },
  abort: {
    POST: async (request, { runtime }) => {
      const body = await readBody(request, reasonSchema, "the abort body", {
        maxBytes: LIMITS.maxBodyBytes,
        optional: true,
      });
      return Response.json(await runtime.abort(body.reason), { status: 202 });
    },
  },
};

/** Routes `/agents/:agent/:session/:action` inside the session's object. */
export async function handleSessionRequest(
  request: Request,
  action: string,
  ctx: SessionHttpContext,
): Promise<Response> {
  const routes = ROUTES[action];
  if (!routes) {
    throw new NotFoundError(
      "unknown_route",
      `no session route "${action.slice(0, 40)}"; use one of: ${Object.keys(ROUTES).join(", ")}`,
    );
  }
  const route = routes[request.method];
  if (!route) throw new MethodNotAllowedError(request.method, `.../${action}`, Object.keys(routes));
  return route(request, ctx);
}
