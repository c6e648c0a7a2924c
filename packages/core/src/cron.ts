// @durable-agents/core/cron: five-field cron schedules through croner. A separate entry point,
// so a Worker whose triggers take no cron schedules bundles no cron parser; pass
// `createAgentServer({ triggers, cron: cronSchedules })` to take them (docs/api.md).

export { type CronSchedule, cronSchedules, nextCronTime, parseCron } from "./triggers/cron.ts";
export type { CronSchedules } from "./triggers/cron-port.ts";
