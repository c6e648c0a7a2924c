import type { Projection } from "../ledger/projection.ts";
import type { SqlPort } from "../sql/port.ts";
import type { RunTrace } from "./trace-sink.ts";

/** What the spans of a run are built from: its trace context and the times its parts began. */
export interface RunTraceRecord extends RunTrace {
  readonly runId: string;
  readonly agent: string;
  /** Epoch ms of `run.started`. */
  readonly startedAt: number;
  readonly step: number;
  readonly attempt: number;
  /** Epoch ms of the current step's `step.started` (its latest attempt). */
  readonly stepStartedAt: number | null;
}

interface Row {
  run_id: string;
  agent: string;
  trace_id: string;
  span_id: string;
  started_at: number;
  step: number;
  attempt: number;
  step_started_at: number | null;
}

/**
 * The trace context of each traced run (one whose `run.started` carries `trace`). Registered
 * only when the session has a trace sink, so an untraced server keeps no such table; turning
 * tracing on later builds it by replaying the ledger, like any new projection.
 */
export const runTracesProjection: Projection = {
  name: "run_traces",
  version: 1,
  create: [
    "CREATE TABLE run_traces (run_id TEXT PRIMARY KEY, agent TEXT NOT NULL, trace_id TEXT NOT NULL, span_id TEXT NOT NULL, started_at INTEGER NOT NULL, step INTEGER NOT NULL, attempt INTEGER NOT NULL, step_started_at INTEGER)",
  ],
  drop: ["DROP TABLE IF EXISTS run_traces"],
  apply(sql, event) {
    if (event.kind === "run.started" && event.data.trace)
      sql.exec(
        "INSERT INTO run_traces (run_id, agent, trace_id, span_id, started_at, step, attempt) VALUES (?, ?, ?, ?, ?, 0, 0)",
        event.runId,
        event.data.agent,
        event.data.trace.traceId,
        event.data.trace.spanId,
        event.ts,
      );
    else if (event.kind === "step.started")
      sql.exec(
        "UPDATE run_traces SET step = ?, attempt = ?, step_started_at = ? WHERE run_id = ?",
        event.data.step,
        event.data.attempt,
        event.ts,
        event.runId,
      );
  },
};

export function getRunTrace(sql: SqlPort, runId: string): RunTraceRecord | undefined {
  const row = sql.exec<Row>("SELECT * FROM run_traces WHERE run_id = ?", runId)[0];
  return (
    row && {
      runId: row.run_id,
      agent: row.agent,
      traceId: row.trace_id,
      spanId: row.span_id,
      startedAt: row.started_at,
      step: row.step,
      attempt: row.attempt,
      stepStartedAt: row.step_started_at,
    }
  );
}
