import { BadRequestError } from "../errors/http-errors.ts";

/**
 * Five-field cron (minute hour day-of-month month day-of-week), in UTC, with
 * `*`, lists, ranges and steps: "0 9 * * 1-5", "*\/15 * * * *".
 * As in classic cron, when both day fields are restricted a day matches either.
 */
export interface CronSchedule {
  readonly expression: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
  readonly anyDay: boolean;
  readonly anyWeekday: boolean;
}

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
] as const;

export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw invalid(
      expression,
      `it has ${parts.length} fields; use 5: minute hour day-of-month month day-of-week`,
    );
  }
  const sets = parts.map((part, i) =>
    parseField(expression, part, FIELDS[i] as (typeof FIELDS)[number]),
  );
  const [minutes, hours, days, months, weekdays] = sets as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  if (weekdays.has(7)) weekdays.add(0);
  return {
    expression,
    minutes,
    hours,
    days,
    months,
    weekdays,
    anyDay: parts[2] === "*",
    anyWeekday: parts[4] === "*",
  };
}

/** The first time strictly after `after` (ms) that matches, at a whole minute. */
export function nextCronTime(schedule: CronSchedule, after: number): number {
  const t = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
  const limit = after + 5 * 366 * 24 * 3600_000;
  while (t.getTime() <= limit) {
    if (!schedule.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(schedule, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!schedule.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!schedule.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return t.getTime();
  }
  throw invalid(schedule.expression, "it never matches a real date (e.g. February 31)");
}

function dayMatches(s: CronSchedule, t: Date): boolean {
  const day = s.days.has(t.getUTCDate());
  const weekday = s.weekdays.has(t.getUTCDay());
  if (s.anyDay && s.anyWeekday) return true;
  if (s.anyDay) return weekday;
  if (s.anyWeekday) return day;
  return day || weekday;
}

function parseField(expression: string, part: string, field: (typeof FIELDS)[number]): Set<number> {
  const out = new Set<number>();
  for (const item of part.split(",")) {
    const match = item.match(/^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/);
    if (!match) throw invalid(expression, `the ${field.name} field has "${item}"`);
    const [, range, lo, hi, stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    const start = range === "*" ? field.min : Number(lo);
    const end =
      range === "*" ? field.max : hi === undefined ? (stepText ? field.max : start) : Number(hi);
    if (step < 1 || start < field.min || end > field.max || start > end) {
      throw invalid(
        expression,
        `the ${field.name} field "${item}" is outside ${field.min}-${field.max}`,
      );
    }
    for (let v = start; v <= end; v += step) out.add(v);
  }
  return out;
}

function invalid(expression: string, why: string): BadRequestError {
  return new BadRequestError(
    "invalid_cron",
    `cron "${expression.slice(0, 60)}" does not parse: ${why}`,
  );
}
