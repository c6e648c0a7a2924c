export type { CronSchedules } from "./cron-port.ts";
export {
  assertDistinctKinds,
  defineTrigger,
  type TriggerCancellation,
  type TriggerContext,
  type TriggerDefinition,
} from "./define-trigger.ts";
export { type DueItem, DueWork } from "./due-work.ts";
export {
  DEFAULT_PUMP_OPTIONS,
  type PumpOptions,
  type TriggerHandler,
  type TriggerOutcome,
  TriggerPump,
  type TriggerRunContext,
} from "./pump.ts";
export { Schedules, type ScheduleView, TriggerCancelledError, type When } from "./schedules.ts";
