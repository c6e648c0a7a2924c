import * as z from "zod";
import { BadRequestError, ConflictError } from "../../errors/http-errors.ts";
import { listCheckpoints } from "../../ledger/projections/checkpoints.ts";
import { LIMITS } from "../limits.ts";
import { readBody, validate } from "../read-json.ts";
import type { RouteTable } from "../route.ts";

const json: z.ZodType<unknown> = z.json();

const decisionSchema = z.object({
  callId: z.string().min(1).max(200),
  approved: z.boolean(),
  args: json.optional(),
  result: json.optional(),
  reason: z.string().max(1000).optional(),
});

const resumeSchema = z.object({
  mode: z.enum(["continue", "with_message", "from_checkpoint"]).optional(),
  message: z.string().min(1).max(LIMITS.maxMessageChars).optional(),
  checkpoint: z.string().max(40).optional(),
  approvals: z.array(decisionSchema).max(100).optional(),
});

const retrySchema = z.object({
  mode: z.enum(["from_checkpoint", "from_start"]).default("from_checkpoint"),
  checkpoint: z.string().max(40).optional(),
});

const forkSchema = z.object({
  checkpoint: z.string().min(1).max(40),
  session: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, "session must be 1-128 letters, digits, _, - or .")
    .optional(),
});

const pageSchema = z.object({
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, "cursor must be a nextCursor value from an earlier page")
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  runId: z.string().max(100).optional(),
});

const bodyOptions = { maxBytes: LIMITS.maxBodyBytes, optional: true };

/** Resume, retry and checkpoints. */
export const controlRoutes: RouteTable = {
  resume: {
    POST: async (request, { runtime }) => {
      const body = await readBody(request, resumeSchema, "the resume body", bodyOptions);
      return Response.json(await runtime.resume(body as Parameters<typeof runtime.resume>[0]), {
        status: 202,
      });
    },
  },
  retry: {
    POST: async (request, { runtime }) => {
      const body = await readBody(request, retrySchema, "the retry body", bodyOptions);
      return Response.json(await runtime.retry(body), { status: 202 });
    },
  },
  fork: {
    POST: async (request, { runtime, peers }) => {
      const body = await readBody(request, forkSchema, "the fork body", {
        maxBytes: LIMITS.maxBodyBytes,
      });
      const { session, agent } = runtime.status();
      const target = body.session ?? `${session}-fork-${crypto.randomUUID().slice(0, 8)}`;
      if (target === session) {
        throw new BadRequestError(
          "invalid_request",
          "a fork needs a session id other than its source's",
        );
      }
      const events = runtime.forkPrefix(body.checkpoint);
      if (!peers)
        throw new ConflictError("fork_unavailable", "this server cannot reach other sessions");
      const refused = await peers.importFork(
        target,
        events,
        `forked from ${session} at checkpoint ${body.checkpoint}`,
      );
      if (refused) return refused;
      return Response.json(
        {
          agent,
          session: target,
          forkedFrom: { session, checkpoint: body.checkpoint },
          events: events.length,
        },
        { status: 201 },
      );
    },
  },
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
