import { Cron } from "croner";
import { BadRequestError } from "../errors/http-errors.ts";
import type { CronSchedules } from "./cron-port.ts";

/**
 * Five-field cron (minute hour day-of-month month day-of-week) through
 * `croner` (https://github.com/hexagon/croner: no dependencies, Web APIs only).
 *
 * - `*`, lists, ranges and steps (`*\/15`, `1-5`, `5/15`), names for months and
 *   weekdays (`JAN`-`DEC`, `SUN`-`SAT`, any case), 0 and 7 for Sunday, `L` for
 *   the last day of the month; the shorthands `@yearly` (`@annually`),
 *   `@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly`.
 * - As in classic (Vixie) cron, when both day fields are restricted a day
 *   matches either.
 * - Times are wall-clock times in `timeZone` (an IANA name such as
 *   `Europe/Berlin`; default `UTC`). Across a DST change a time that does not
 *   exist that day runs at the first valid time after the gap, and a time that
 *   occurs twice runs once (croner's "fixed-time" rule).
 */
export interface CronSchedule {
  readonly expression: string;
  /** IANA time zone the fields are read in. */
  readonly timeZone: string;
  readonly cron: Cron;
}

/** Parses `expression` in `timeZone`. Throws a 400 `invalid_cron` that says what is wrong. */
export function parseCron(expression: string, timeZone = "UTC"): CronSchedule {
  const trimmed = expression.trim();
  if (!trimmed.startsWith("@")) {
    const fields = trimmed === "" ? 0 : trimmed.split(/\s+/).length;
    if (fields !== 5) {
      throw invalid(
        expression,
        `it has ${fields} fields; use 5 (minute hour day-of-month month day-of-week) or a shorthand such as @daily`,
      );
    }
  }
  if (!isTimeZone(timeZone)) {
    throw new BadRequestError(
      "invalid_time_zone",
      `time zone "${timeZone.slice(0, 60)}" is not an IANA time zone name; use e.g. "UTC", "Europe/Berlin" or "America/New_York"`,
    );
  }
  try {
    const cron = new Cron(trimmed, {
      paused: true,
      mode: "5-part",
      timezone: timeZone,
      domAndDow: false,
      sloppyRanges: true,
    });
    return { expression, timeZone, cron };
  } catch (error) {
    throw invalid(expression, error instanceof Error ? error.message : String(error));
  }
}

/** The first time strictly after `after` (epoch ms) that matches, at a whole minute (epoch ms). */
export function nextCronTime(schedule: CronSchedule, after: number): number {
  const next = schedule.cron.nextRun(new Date(after));
  if (!next) throw invalid(schedule.expression, "it never matches a real date (e.g. February 31)");
  return next.getTime();
}

/**
 * Cron schedules for a server's triggers, through croner: pass it as
 * `createAgentServer({ triggers, cron: cronSchedules })`. It lives in its own entry point,
 * `@durable-agents/core/cron`, so a Worker that takes no cron schedules bundles no cron parser.
 */
export const cronSchedules: CronSchedules = (expression, timeZone, after) =>
  nextCronTime(parseCron(expression, timeZone), after);

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function invalid(expression: string, why: string): BadRequestError {
  return new BadRequestError(
    "invalid_cron",
    `cron "${expression.slice(0, 60)}" does not parse: ${why}`,
  );
}
