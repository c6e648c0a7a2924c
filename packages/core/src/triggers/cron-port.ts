/**
 * The cron port: the first time strictly after `after` (epoch ms) at which `expression` (five
 * fields or a shorthand such as `@daily`) matches in `timeZone` (IANA; default `UTC`), at a
 * whole minute, in epoch ms. Throws a 400 `invalid_cron` or `invalid_time_zone` that says
 * what is wrong. `cronSchedules` from `@durable-agents/core/cron` implements it with croner;
 * a server without it bundles no cron parser and refuses cron schedules (400 `cron_off`).
 */
export type CronSchedules = (
  expression: string,
  timeZone: string | undefined,
  after: number,
) => number;
