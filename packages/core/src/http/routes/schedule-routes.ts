import * as z from "zod";
import { NotFoundError } from "../../errors/http-errors.ts";
import type { When } from "../../triggers/schedules.ts";
import { LIMITS } from "../limits.ts";
import { readBody, validate } from "../read-json.ts";
import type { RouteTable } from "../route.ts";

const MAX_DELAY_MS = 10 * 365 * 24 * 3600_000;

const scheduleSchema = z
  .object({
    kind: z.string().min(1).max(64),
    payload: z.json().optional(),
    key: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/, "key must be 1-128 letters, digits, _ . : or -")
      .optional(),
    at: z.union([z.iso.datetime(), z.number().int().nonnegative()]).optional(),
    delayMs: z.number().int().min(0).max(MAX_DELAY_MS).optional(),
    cron: z.string().min(1).max(120).optional(),
  })
  .refine((b) => [b.at, b.delayMs, b.cron].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of "at" (ISO date or epoch ms), "delayMs" or "cron"',
  });

const cancelSchema = z.object({ key: z.string().min(1).max(128) });

/** Application schedules: list (with stuck claims), create, cancel. */
export const scheduleRoutes: RouteTable = {
  schedules: {
    GET: (_request, { runtime }) => {
      const schedules = runtime.schedules.list();
      return Response.json({
        schedules,
        stuck: schedules.filter((s) => s.stuck),
        kinds: runtime.schedules.kinds(),
      });
    },
    POST: async (request, { runtime }) => {
      const body = await readBody(request, scheduleSchema, "the schedule body", {
        maxBytes: LIMITS.maxBodyBytes,
      });
      const when: When =
        body.cron !== undefined
          ? { cron: body.cron }
          : body.delayMs !== undefined
            ? { delayMs: body.delayMs }
            : { at: typeof body.at === "string" ? Date.parse(body.at) : (body.at as number) };
      const view = await runtime.schedule(body.kind, body.payload ?? {}, when, body.key);
      return Response.json(view, { status: 201 });
    },
    DELETE: (request, { runtime }) => {
      const { key } = validate(
        cancelSchema,
        Object.fromEntries(new URL(request.url).searchParams),
        "the cancel query",
      );
      if (!runtime.schedules.cancel(key)) {
        throw new NotFoundError(
          "unknown_schedule",
          `no schedule with key "${key.slice(0, 64)}"; list them with GET .../schedules`,
        );
      }
      return Response.json({ cancelled: key });
    },
  },
};
