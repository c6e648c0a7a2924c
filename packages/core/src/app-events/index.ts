export type { AppContext, ScheduleRequest, StagedAppContext } from "./app-context.ts";
export {
  AppProjections,
  assertDistinctProjections,
  ProjectionFailedError,
  ProjectionNeedsRebuildError,
  ProjectionRebuildFailedError,
  type ProjectionState,
  type ProjectionStatus,
  UnknownProjectionError,
} from "./app-projections.ts";
export {
  type AnyAppEvent,
  APP_EVENT_PREFIX,
  type AppEventDefinition,
  defineEvent,
  InvalidAppEventError,
  isAppEventKind,
  type PayloadOf,
} from "./define-event.ts";
export {
  type AnyProjection,
  type AppEventOf,
  defineProjection,
  type ProjectionDefinition,
  type ProjectionPage,
  type ProjectionReader,
  type ProjectionStore,
} from "./define-projection.ts";
export { StagedEffects } from "./staged.ts";
export {
  type AnySubscription,
  type AppEventHandlerContext,
  assertDistinctSubscriptions,
  on,
  type Subscription,
} from "./subscriptions.ts";
