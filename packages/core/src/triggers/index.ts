export { type CronSchedule, nextCronTime, parseCron } from "./cron.ts";
export { defineTrigger, type TriggerContext, type TriggerDefinition } from "./define-trigger.ts";
export { type DueItem, DueWork } from "./due-work.ts";
export {
  DEFAULT_PUMP_OPTIONS,
  type PumpOptions,
  type TriggerHandler,
  type TriggerOutcome,
  TriggerPump,
  type TriggerRunContext,
} from "./pump.ts";
export { Schedules, type ScheduleView, type When } from "./schedules.ts";
