import { TerminalError } from "../errors/base.ts";
import { ConflictError } from "../errors/http-errors.ts";
import { validate } from "../http/read-json.ts";
import type { JsonValue, NewEvent, StateSource } from "../ledger/events.ts";
import { eventJson, type Ledger } from "../ledger/ledger.ts";
import { latestRun } from "../ledger/projections/runs.ts";
import { latestState, stateVersion, stateVersionAt } from "../ledger/projections/session-state.ts";
import type { SqlPort } from "../sql/port.ts";
import { jsonValue } from "../validation/fields.ts";
import type { AgentDefinition } from "./define-agent.ts";
import { ACTIVE } from "./session-runtime-options.ts";

/**
 * The application state of a session: `GET`/`PUT .../state`, `ctx.state` in tools,
 * the snapshot's `state`, AG-UI's `/state`.
 *
 * Invariants:
 * 1. Every change is one `state.updated` event (the whole new state, the next version);
 *    the `session_state` projection follows it in the same transaction.
 * 2. A client write is compare-and-set: decided (`decideCompareAndSet`) and appended with
 *    no await in between, and the object runs one request at a time, so of concurrent
 *    writes with the same `expectedVersion` exactly one commits.
 * 3. Every write is checked (JSON, the agent's `stateSchema`, the event size limit)
 *    before anything is staged or appended; a refused write changes nothing.
 */
export interface StateView {
  readonly state: JsonValue;
  /** 0 for the initial state; +1 per `state.updated`. */
  readonly version: number;
}

/** A client's compare-and-set, decided before anything is written. */
export type CasDecision =
  | { readonly type: "accepted"; readonly version: number }
  | { readonly type: "version_conflict"; readonly currentVersion: number };

export function decideCompareAndSet(currentVersion: number, expectedVersion: number): CasDecision {
  return expectedVersion === currentVersion
    ? { type: "accepted", version: currentVersion + 1 }
    : { type: "version_conflict", currentVersion };
}

/** 409: the state moved since the caller read it. Carries the version to start again from. */
export class StateVersionConflictError extends ConflictError {
  override name = "StateVersionConflictError";
  readonly currentVersion: number;
  constructor(sessionId: string, expectedVersion: number, currentVersion: number) {
    super(
      "version_conflict",
      `the state of session ${sessionId} is at version ${currentVersion}, not ${expectedVersion}: it changed since you read it. GET .../state again, apply your change to what it returns, and retry with that version as expectedVersion`,
      { details: { currentVersion, expectedVersion } },
    );
    this.currentVersion = currentVersion;
  }
}

export interface AppStateOptions {
  readonly sql: SqlPort;
  readonly ledger: Ledger;
  readonly agent: AgentDefinition;
  readonly sessionId: string;
}

export class AppState {
  readonly #o: AppStateOptions;

  constructor(options: AppStateOptions) {
    this.#o = options;
  }

  /** The state now: the latest written, else the agent's initial state (version 0). */
  current(): StateView {
    const stored = latestState(this.#o.sql);
    return stored ? { state: stored.state, version: stored.version } : this.#initial();
  }

  /** The state as it was after event `seq`: what a checkpoint or a run's start saw. */
  at(seq: number): StateView {
    const found = stateVersionAt(this.#o.sql, seq);
    if (!found) return this.#initial();
    const event = this.#o.ledger.read(found.seq - 1, 1)[0];
    if (event?.kind !== "state.updated") {
      throw new TerminalError(
        "state_index_corrupt",
        `the session_state projection points at seq ${found.seq}, which is not a state.updated event; rebuild the projection`,
      );
    }
    return { state: event.data.state, version: found.version };
  }

  /** Checks a write (JSON, `stateSchema`, size) and returns a copy of it to stage or append. */
  check(value: unknown, source: StateSource): JsonValue {
    const state = validate(jsonValue, value, "the state");
    if (this.#o.agent.stateSchema) validate(this.#o.agent.stateSchema, value, "the state");
    // The version is only known at commit: measure the event with the widest one.
    const json = eventJson("state.updated", { state, version: Number.MAX_SAFE_INTEGER, ...source });
    return (JSON.parse(json) as { state: JsonValue }).state;
  }

  /** A client's write: appends `state.updated` if `expectedVersion` is current, else a 409. */
  compareAndSet(next: unknown, expectedVersion: number): { version: number; seq: number } {
    const state = this.check(next, { source: "client" });
    const decision = decideCompareAndSet(stateVersion(this.#o.sql), expectedVersion);
    if (decision.type === "version_conflict") {
      throw new StateVersionConflictError(
        this.#o.sessionId,
        expectedVersion,
        decision.currentVersion,
      );
    }
    // Written during a run, it belongs to that run, so the run's AG-UI and UI streams
    // carry it (and a resumed stream replays it); between runs it belongs to none.
    const run = latestRun(this.#o.sql);
    const runId = run && ACTIVE.has(run.status) ? run.runId : null;
    const data = { state, version: decision.version, source: "client" as const };
    this.#o.ledger.append([{ kind: "state.updated", runId, data }]);
    return { version: decision.version, seq: this.#o.ledger.tail };
  }

  /** The event that makes `state` the next version. Append it in the same tick. */
  event(runId: string | null, state: JsonValue, source: StateSource): NewEvent<"state.updated"> {
    const version = stateVersion(this.#o.sql) + 1;
    return { kind: "state.updated", runId, data: { state, version, ...source } };
  }

  /** Going back to a checkpoint: the event that restores its state, none when it is unchanged. */
  restore(runId: string, checkpointSeq: number): NewEvent[] {
    const then = this.at(checkpointSeq).state;
    if (sameJson(then, this.current().state)) return [];
    return [this.event(runId, then, { source: "restore", checkpoint: checkpointSeq })];
  }

  #initial(): StateView {
    return { state: this.#o.agent.initialState ?? null, version: 0 };
  }
}

/** Deep equality of JSON values; object key order does not matter. */
export function sameJson(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameJson(item, b[i] as JsonValue));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k] as JsonValue, b[k] as JsonValue));
}
