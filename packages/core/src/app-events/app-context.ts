import type * as z from "zod/mini";
import type { scheduleInput } from "../commands/data-commands.ts";
import type { SqlPort, SqlRow, SqlValue } from "../sql/port.ts";
import type { ScheduleView } from "../triggers/schedules.ts";
import type { AnyAppEvent, PayloadOf } from "./define-event.ts";
import type { ProjectionReader } from "./define-projection.ts";

/** `ctx.schedule(...)`: the body of `POST .../schedules` (one of `at`, `delayMs`, `cron`). */
export type ScheduleRequest = z.input<typeof scheduleInput>;

/**
 * What app code (tools, triggers, `on` handlers, custom endpoints) gets to act on its own
 * session beside its own context.
 */
export interface AppContext {
  /**
   * Records an application event (`defineEvent`). The payload is validated now: a bad one
   * throws `InvalidAppEventError` (400 `invalid_app_event`). In a tool, a trigger or an `on`
   * handler it is staged and commits with the unit's result (or not at all); in an
   * endpoint it is appended at once. A projection whose reducer throws rolls it back.
   */
  emit<E extends AnyAppEvent>(event: E, payload: PayloadOf<E>): void;
  /** Reads an application projection (404 `unknown_projection`, 409 `projection_needs_rebuild`). */
  projection(name: string): ProjectionReader;
  /**
   * Schedules a trigger: the `schedule.create` command that `POST .../schedules` runs (its
   * validation, hooks and errors), as the trusted caller with transport `app`. Not staged:
   * give a `key` so a redriven tool moves the same schedule instead of adding one.
   */
  schedule(request: ScheduleRequest): Promise<ScheduleView>;
}

/** Code that runs as due work (triggers, `on` handlers): its SQL writes are staged too. */
export interface StagedAppContext extends AppContext {
  /**
   * Stages writes to the session's own SQLite; they commit with the unit's completion (the
   * due row's), in one transaction with its events, or not at all: exactly once.
   */
  transaction(write: (sql: SqlPort) => void): void;
  /** Reads the session's own SQLite (rows committed so far; not this unit's staged ones). */
  query<T extends object = SqlRow>(sql: string, ...params: SqlValue[]): T[];
}
