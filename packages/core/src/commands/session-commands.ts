import type { CommandName, SessionCommand } from "./command.ts";
import {
  cancelScheduleCommand,
  recordUsageCommand,
  scheduleCommand,
  setStateCommand,
} from "./data-commands.ts";
import { rebuildProjectionCommand } from "./projection-commands.ts";
import {
  abortCommand,
  closeCommand,
  forkCommand,
  interruptCommand,
  resumeCommand,
  retryCommand,
  startCommand,
} from "./run-commands.ts";

/** Every session command, by name: the single declaration every transport parses into. */
// biome-ignore lint/suspicious/noExplicitAny: each entry keeps its own input type; dispatch validates before run
type AnyCommand = SessionCommand<any, unknown>;

export const SESSION_COMMANDS: Readonly<Record<CommandName, AnyCommand>> = {
  start: startCommand,
  interrupt: interruptCommand,
  abort: abortCommand,
  resume: resumeCommand,
  retry: retryCommand,
  close: closeCommand,
  fork: forkCommand,
  "state.set": setStateCommand,
  "schedule.create": scheduleCommand,
  "schedule.cancel": cancelScheduleCommand,
  "usage.record": recordUsageCommand,
  "projection.rebuild": rebuildProjectionCommand,
};
