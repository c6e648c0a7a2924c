export {
  type Caller,
  checkCaller,
  expiredError,
  missingScopeError,
  otherSessionError,
  TRUSTED_CALLER,
} from "./caller.ts";
export {
  type CommandName,
  type CommandResult,
  type CommandRunContext,
  defineCommand,
  type SessionCommand,
  type Transport,
} from "./command.ts";
export {
  type CommandCall,
  type CommandOutcome,
  dispatchCommand,
  isCommandName,
} from "./dispatch.ts";
export { COMMAND_SCOPES, commandRefusal, routeScope } from "./route-scope.ts";
export type { ResumeBody, StartBody } from "./run-commands.ts";
export { SESSION_COMMANDS } from "./session-commands.ts";
export {
  answeredByHook,
  compareAndSetStatus,
  STATUS_TRANSITIONS,
  type StatusTransitionInput,
  type StatusTransitionResult,
  statusTransitionInput,
  type TargetStatus,
} from "./status-transition.ts";
