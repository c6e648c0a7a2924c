import type { AgentDefinition } from "../agent/define-agent.ts";
import type { SessionRuntime } from "../agent/session-runtime.ts";
import { SessionRuntime as FullSessionRuntime } from "../agent/session-runtime-default.ts";
import type { SessionRuntimeOptions } from "../agent/session-runtime-options.ts";
import { ManualClock } from "./manual-clock.ts";
import { NodeSqlPort } from "./node-sqlite.ts";

export interface TestSession {
  readonly runtime: SessionRuntime;
  readonly sql: NodeSqlPort;
  readonly clock: ManualClock;
  /** The wake-up the runtime asked for last (the alarm), or null. */
  wakeAt(): number | null;
  /** Fires alarms until no work is due now (time does not move). Returns how many fired. */
  drain(maxAlarms?: number): Promise<number>;
  /**
   * A new runtime on the same database: what an evicted object sees when it
   * comes back. Pass a new `clock` to leave the old instance frozen in time, as
   * a crashed one is (its lease renewals stop).
   */
  restart(overrides?: Partial<SessionRuntimeOptions> & { clock?: ManualClock }): TestSession;
}

/** A session on in-process SQLite with a manual clock: the Node stand-in for a Durable Object. */
export function createTestSession(
  agent: AgentDefinition,
  overrides: Partial<SessionRuntimeOptions> = {},
  shared?: { sql: NodeSqlPort; clock: ManualClock },
): TestSession {
  const sql = shared?.sql ?? new NodeSqlPort();
  const clock = shared?.clock ?? new ManualClock();
  let alarm: number | null = null;
  let ids = 0;
  const runtime = new FullSessionRuntime({
    sql,
    clock,
    agent,
    sessionId: "s1",
    newId: () => `run_${++ids}`,
    wake: (at) => {
      alarm = at;
    },
    ...overrides,
  });
  const session: TestSession = {
    runtime,
    sql,
    clock,
    wakeAt: () => alarm,
    async drain(maxAlarms = 1000) {
      let fired = 0;
      while (alarm !== null && alarm <= clock.now() && fired < maxAlarms) {
        fired++;
        await runtime.alarm();
      }
      return fired;
    },
    restart: ({ clock: next, ...more } = {}) =>
      createTestSession(agent, { ...overrides, ...more }, { sql, clock: next ?? clock }),
  };
  return session;
}
