import { TerminalError } from "../../errors/base.ts";
import type { SqlPort } from "../../sql/port.ts";
import type { JsonValue } from "../events.ts";
import type { Projection } from "../projection.ts";

/**
 * The application state of a session: the latest `state.updated`, plus the seq of
 * every version, so the state as of any point (a checkpoint, a run's start) is one
 * indexed lookup and one event read, never a scan of the ledger.
 *
 * Invariants:
 * 1. The version is 0 before the first `state.updated` and grows by exactly 1 per
 *    event; an event with any other version throws, which rolls its append back.
 * 2. Only the latest state's JSON is kept here; older states stay in their events.
 */
export const sessionStateProjection: Projection = {
  name: "session_state",
  version: 1,
  create: [
    "CREATE TABLE session_state (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, json TEXT NOT NULL, seq INTEGER NOT NULL)",
    "CREATE TABLE session_state_versions (seq INTEGER PRIMARY KEY, version INTEGER NOT NULL)",
  ],
  drop: ["DROP TABLE IF EXISTS session_state", "DROP TABLE IF EXISTS session_state_versions"],
  apply(sql, event) {
    if (event.kind !== "state.updated") return;
    const current = stateVersion(sql);
    if (event.data.version !== current + 1) {
      throw new TerminalError(
        "state_version_gap",
        `state.updated at seq ${event.seq} carries version ${event.data.version}, but the state is at version ${current}; each state event must carry the next version`,
      );
    }
    sql.exec(
      "INSERT INTO session_state (id, version, json, seq) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version, json = excluded.json, seq = excluded.seq",
      event.data.version,
      JSON.stringify(event.data.state),
      event.seq,
    );
    sql.exec(
      "INSERT INTO session_state_versions (seq, version) VALUES (?, ?)",
      event.seq,
      event.data.version,
    );
  },
};

export interface StoredState {
  readonly version: number;
  readonly state: JsonValue;
  /** The seq of the `state.updated` event that wrote it. */
  readonly seq: number;
}

/** The current version: 0 before any `state.updated`. */
export function stateVersion(sql: SqlPort): number {
  return sql.exec<{ version: number }>("SELECT version FROM session_state")[0]?.version ?? 0;
}

/** The latest state written; undefined at version 0 (the agent's initial state applies). */
export function latestState(sql: SqlPort): StoredState | undefined {
  const row = sql.exec<{ version: number; json: string; seq: number }>(
    "SELECT version, json, seq FROM session_state",
  )[0];
  return row && { version: row.version, state: JSON.parse(row.json) as JsonValue, seq: row.seq };
}

/** The last `state.updated` at or before `seq`: its seq and version, or undefined when none. */
export function stateVersionAt(
  sql: SqlPort,
  seq: number,
): { readonly seq: number; readonly version: number } | undefined {
  return sql.exec<{ seq: number; version: number }>(
    "SELECT seq, version FROM session_state_versions WHERE seq <= ? ORDER BY seq DESC LIMIT 1",
    seq,
  )[0];
}
