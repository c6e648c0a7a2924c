import * as z from "zod/mini";
import { NotFoundError } from "../errors/http-errors.ts";
import { encodeOffset } from "../ledger/offset.ts";
import { latestRun } from "../ledger/projections/runs.ts";
import { MAX_SCHEDULE_AHEAD_MS, type When } from "../triggers/schedules.ts";
import { closedObject, jsonValue, text } from "../validation/fields.ts";
import { defineCommand } from "./command.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$/;

export const stateInput = closedObject("a state write", {
  state: jsonValue,
  expectedVersion: z
    .number({ error: "send expectedVersion: the version GET .../state returned with the state" })
    .check(z.int(), z.nonnegative()),
});

export const scheduleInput = closedObject("a schedule", {
  kind: text(1, 64),
  payload: z.optional(jsonValue),
  key: z.optional(
    z
      .string()
      .check(z.regex(/^[A-Za-z0-9_.:-]{1,128}$/, "key must be 1-128 letters, digits, _ . : or -")),
  ),
  // An ISO 8601 date-time in UTC (`Z`) or with an offset (`+02:00`), or epoch ms.
  at: z.optional(
    z.union([z.iso.datetime({ offset: true }), z.number().check(z.int(), z.nonnegative())]),
  ),
  delayMs: z.optional(z.number().check(z.int(), z.gte(0), z.lte(MAX_SCHEDULE_AHEAD_MS))),
  cron: z.optional(text(1, 120)),
  timeZone: z.optional(text(1, 64)),
}).check(
  z.refine((b) => [b.at, b.delayMs, b.cron].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of "at" (ISO date or epoch ms), "delayMs" or "cron"',
  }),
  z.refine((b) => b.timeZone === undefined || b.cron !== undefined, {
    path: ["timeZone"],
    message: '"timeZone" applies to a "cron" schedule only; "at" and "delayMs" are instants',
  }),
);

export const cancelInput = closedObject("a schedule cancel", {
  key: z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? "missing: name the schedule to cancel by its key (DELETE .../schedules?key=<the schedule's key>; GET .../schedules lists them)"
          : undefined,
    })
    .check(z.minLength(1), z.maxLength(128)),
});

const metricInput = closedObject("a usage record", {
  metric: z.string().check(z.regex(NAME, "metric must be 1-100 letters, digits or _ . : / -")),
  // Bounded so that sums of them stay finite (an overflow to Infinity is null in JSON).
  value: z
    .number()
    .check(
      z.gte(-Number.MAX_SAFE_INTEGER, "value must be at least -(2^53 - 1)"),
      z.lte(Number.MAX_SAFE_INTEGER, "value must be at most 2^53 - 1"),
    ),
  tags: z.optional(
    z
      .record(
        z.string().check(z.regex(NAME, "a tag name must be 1-100 letters, digits or _ . : / -")),
        text(0, 200),
      )
      .check(z.refine((tags) => Object.keys(tags).length <= 20, "at most 20 tags")),
  ),
});

/** `PUT .../state` `{state, expectedVersion}` → 200 `{version, offset}`; 409 `version_conflict`. */
export const setStateCommand = defineCommand({
  name: "state.set",
  scope: "write",
  input: stateInput,
  what: "the state body",
  http: { method: "PUT", action: "state" },
  async run({ runtime }, body) {
    const { version, seq } = runtime.state.compareAndSet(body.state, body.expectedVersion);
    return { status: 200, result: { version, offset: encodeOffset(seq) } };
  },
});

/** `POST .../schedules` `{kind, payload?, key?, at|delayMs|cron, timeZone?}` → 201 ScheduleView. */
export const scheduleCommand = defineCommand({
  name: "schedule.create",
  scope: "write",
  input: scheduleInput,
  what: "the schedule body",
  http: { method: "POST", action: "schedules" },
  async run({ runtime }, body) {
    const when: When =
      body.cron !== undefined
        ? { cron: body.cron, ...(body.timeZone ? { timeZone: body.timeZone } : {}) }
        : body.delayMs !== undefined
          ? { delayMs: body.delayMs }
          : { at: typeof body.at === "string" ? Date.parse(body.at) : (body.at as number) };
    return {
      status: 201,
      result: await runtime.schedule(body.kind, body.payload ?? {}, when, body.key),
    };
  },
});

/** `DELETE .../schedules?key=` → 200 `{cancelled}`; 404 `unknown_schedule`. */
export const cancelScheduleCommand = defineCommand({
  name: "schedule.cancel",
  scope: "write",
  input: cancelInput,
  what: "the cancel query",
  http: { method: "DELETE", action: "schedules" },
  async run({ runtime }, { key }) {
    if (!runtime.schedules.cancel(key)) {
      throw new NotFoundError(
        "unknown_schedule",
        `no schedule with key "${key.slice(0, 64)}"; list them with GET .../schedules`,
      );
    }
    return { status: 200, result: { cancelled: key } };
  },
});

/** `POST .../usage` `{metric, value, tags?}` → 201 `{offset}`: a `usage.recorded` event on the latest run. */
export const recordUsageCommand = defineCommand({
  name: "usage.record",
  scope: "write",
  input: metricInput,
  what: "the usage body",
  http: { method: "POST", action: "usage" },
  async run({ runtime, sql }, body) {
    const data = {
      metric: body.metric,
      value: body.value,
      ...(body.tags ? { tags: body.tags } : {}),
    };
    const [event] = runtime.ledger.append([
      { kind: "usage.recorded", runId: latestRun(sql)?.runId ?? null, data },
    ]);
    return { status: 201, result: { offset: encodeOffset(event?.seq ?? runtime.ledger.tail) } };
  },
});
