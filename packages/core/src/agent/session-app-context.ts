import type { AppContext, ScheduleRequest, StagedAppContext } from "../app-events/app-context.ts";
import type { AppProjections } from "../app-events/app-projections.ts";
import { appEvent } from "../app-events/define-event.ts";
import type { StagedEffects } from "../app-events/staged.ts";
import type { Clock } from "../clock.ts";
import { TRUSTED_CALLER } from "../commands/caller.ts";
import { dispatchCommand } from "../commands/dispatch.ts";
import { DurableAgentsError } from "../errors/base.ts";
import type { SessionHooks } from "../http/hooks.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { SqlPort } from "../sql/port.ts";
import type { ScheduleView } from "../triggers/schedules.ts";
import type { SessionRuntime } from "./session-runtime.ts";

/** What app code's contexts reach of their session. */
export interface SessionAppContextOptions {
  /** The runtime `ctx.schedule`'s command runs on. */
  readonly runtime: SessionRuntime;
  readonly sql: SqlPort;
  readonly ledger: Ledger;
  readonly projections: AppProjections;
  readonly clock: Clock;
  /** The command hooks `ctx.schedule` runs through, as `POST .../schedules` does. */
  readonly hooks: SessionHooks | undefined;
  readonly env: Record<string, unknown> | undefined;
}

/**
 * The contexts app code gets to act on its own session (app-events/app-context.ts): one
 * `emit`, `projection` and `schedule` for tools, triggers, `on` handlers, the `onComplete`
 * hook and custom endpoints; only where `emit` goes differs (staged with a unit of due
 * work, or appended at once).
 */
export class SessionAppContexts {
  readonly #o: SessionAppContextOptions;

  constructor(options: SessionAppContextOptions) {
    this.#o = options;
  }

  /** The app context of code outside due work (a custom endpoint): `emit` appends at once, outside any run. */
  direct(): AppContext {
    return this.emitting((event, payload) => {
      this.#o.ledger.append([appEvent(event, payload, null)]);
    });
  }

  /** The context of a unit of due work (a trigger run, an `on` delivery) whose effects are `staged`. */
  staged(staged: StagedEffects): StagedAppContext {
    return {
      ...this.emitting((event, payload) => staged.emit(event, payload)),
      transaction: (write) => staged.transaction(write),
      query: (query, ...params) => this.#o.sql.exec(query, ...params),
    };
  }

  /** The app context whose `emit` is `emit` (a tool's and the completion hook's: staged). */
  emitting(emit: AppContext["emit"]): AppContext {
    return {
      emit,
      projection: (name) => this.#o.projections.reader(name),
      schedule: (request) => this.#schedule(request),
    };
  }

  /** `ctx.schedule`: the `schedule.create` command, as the trusted caller on transport `app`. */
  async #schedule(request: ScheduleRequest): Promise<ScheduleView> {
    const outcome = await dispatchCommand("schedule.create", request, {
      runtime: this.#o.runtime,
      sql: this.#o.sql,
      caller: TRUSTED_CALLER,
      transport: "app",
      clock: this.#o.clock,
      hooks: this.#o.hooks,
      env: this.#o.env,
    });
    // A hook may answer instead, or replace the rendering: then its response is the result.
    const response = outcome.response;
    if (!response) return (outcome as { result: unknown }).result as ScheduleView;
    const body = (await response.json().catch(() => null)) as {
      error?: { code?: string; message?: string };
    } | null;
    if (response.ok) return body as unknown as ScheduleView;
    throw new DurableAgentsError(
      body?.error?.code ?? "schedule_refused",
      response.status,
      body?.error?.message ?? `a command hook refused the schedule with ${response.status}`,
      false,
    );
  }
}
