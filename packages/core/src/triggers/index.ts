export { type DueItem, DueWork } from "./due-work.ts";
export {
  DEFAULT_PUMP_OPTIONS,
  type PumpOptions,
  type TriggerHandler,
  type TriggerOutcome,
  TriggerPump,
  type TriggerRunContext,
} from "./pump.ts";
