import type { SqlPort } from "../../sql/port.ts";
import type { Projection } from "../projection.ts";

/**
 * A checkpoint is a point a run can go back to or a fork can start from: the
 * start of a run and the end of each step. Its id is the seq of that event.
 */
export interface Checkpoint {
  readonly id: string;
  readonly seq: number;
  readonly runId: string;
  readonly step: number;
  readonly kind: "run.started" | "step.completed";
  readonly ts: number;
}

interface CheckpointRow {
  seq: number;
  run_id: string;
  step: number;
  kind: Checkpoint["kind"];
  ts: number;
}

export const checkpointsProjection: Projection = {
  name: "checkpoints",
  version: 1,
  create: [
    "CREATE TABLE checkpoints (seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL, step INTEGER NOT NULL, kind TEXT NOT NULL, ts INTEGER NOT NULL)",
  ],
  drop: ["DROP TABLE IF EXISTS checkpoints"],
  apply(sql, event) {
    if (event.kind !== "run.started" && event.kind !== "step.completed") return;
    const step = event.kind === "step.completed" ? event.data.step : 0;
    sql.exec(
      "INSERT INTO checkpoints (seq, run_id, step, kind, ts) VALUES (?, ?, ?, ?, ?)",
      event.seq,
      event.runId,
      step,
      event.kind,
      event.ts,
    );
  },
};

export function listCheckpoints(
  sql: SqlPort,
  afterSeq: number,
  limit: number,
  runId?: string,
): Checkpoint[] {
  const rows = runId
    ? sql.exec<CheckpointRow>(
        "SELECT * FROM checkpoints WHERE seq > ? AND run_id = ? ORDER BY seq LIMIT ?",
        afterSeq,
        runId,
        limit,
      )
    : sql.exec<CheckpointRow>(
        "SELECT * FROM checkpoints WHERE seq > ? ORDER BY seq LIMIT ?",
        afterSeq,
        limit,
      );
  return rows.map(toCheckpoint);
}

export function getCheckpoint(sql: SqlPort, seq: number): Checkpoint | undefined {
  const row = sql.exec<CheckpointRow>("SELECT * FROM checkpoints WHERE seq = ?", seq)[0];
  return row && toCheckpoint(row);
}

/** The latest checkpoint of a run. */
export function latestCheckpoint(sql: SqlPort, runId: string): Checkpoint | undefined {
  const row = sql.exec<CheckpointRow>(
    "SELECT * FROM checkpoints WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
    runId,
  )[0];
  return row && toCheckpoint(row);
}

function toCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    id: String(row.seq),
    seq: row.seq,
    runId: row.run_id,
    step: row.step,
    kind: row.kind,
    ts: row.ts,
  };
}
