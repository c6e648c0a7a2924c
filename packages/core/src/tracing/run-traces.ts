import { TERMINAL_KINDS } from "../ledger/events.ts";
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
  /** The segment the current step's attempt started in. */
  readonly stepSegment: number;
  /** True from the step's `step.started` to its `step.completed`. */
  readonly stepOpen: boolean;
  /**
   * How many times the run was resumed: each stretch of work from `run.started` or a
   * `run.resumed` to a wait or an end is one `invoke_agent` span (segment 0 has `spanId`).
   */
  readonly segment: number;
  /** Epoch ms of the current segment's `run.started` or `run.resumed`. */
  readonly segmentStartedAt: number;
  /** The seq of the `run.waiting` or terminal event that ended the current segment; null while it runs. */
  readonly closedSeq: number | null;
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
  step_segment: number;
  step_open: number;
  parent_span_id: string | null;
  segment: number;
  segment_started_at: number;
  closed_seq: number | null;
}

/**
 * The trace context of each traced run (one whose `run.started` carries `trace`). Registered
 * only when the session has a trace sink, so an untraced server keeps no such table; turning
 * tracing on later builds it by replaying the ledger, like any new projection.
 */
export const runTracesProjection: Projection = {
  name: "run_traces",
  version: 4,
  create: [
    "CREATE TABLE run_traces (run_id TEXT PRIMARY KEY, agent TEXT NOT NULL, trace_id TEXT NOT NULL, span_id TEXT NOT NULL, started_at INTEGER NOT NULL, step INTEGER NOT NULL, attempt INTEGER NOT NULL, step_started_at INTEGER, step_segment INTEGER NOT NULL DEFAULT 0, step_open INTEGER NOT NULL DEFAULT 0, parent_span_id TEXT, segment INTEGER NOT NULL, segment_started_at INTEGER NOT NULL, closed_seq INTEGER)",
  ],
  drop: ["DROP TABLE IF EXISTS run_traces"],
  apply(sql, event) {
    if (event.kind === "run.started") {
      if (event.data.trace)
        sql.exec(
          "INSERT INTO run_traces (run_id, agent, trace_id, span_id, parent_span_id, started_at, step, attempt, segment, segment_started_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, ?)",
          event.runId,
          event.data.agent,
          event.data.trace.traceId,
          event.data.trace.spanId,
          event.data.trace.parentSpanId ?? null,
          event.ts,
          event.ts,
        );
    } else if (event.kind === "step.started")
      sql.exec(
        "UPDATE run_traces SET step = ?, attempt = ?, step_started_at = ?, step_segment = segment, step_open = 1 WHERE run_id = ?",
        event.data.step,
        event.data.attempt,
        event.ts,
        event.runId,
      );
    else if (event.kind === "step.completed")
      sql.exec(
        "UPDATE run_traces SET step_open = 0 WHERE run_id = ? AND step = ?",
        event.runId,
        event.data.step,
      );
    else if (event.kind === "run.resumed")
      sql.exec(
        "UPDATE run_traces SET segment = segment + 1, segment_started_at = ?, closed_seq = NULL WHERE run_id = ?",
        event.ts,
        event.runId,
      );
    else if (event.kind === "run.waiting" || TERMINAL_KINDS.has(event.kind))
      sql.exec(
        "UPDATE run_traces SET closed_seq = ? WHERE run_id = ? AND closed_seq IS NULL",
        event.seq,
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
      ...(row.parent_span_id === null ? {} : { parentSpanId: row.parent_span_id }),
      startedAt: row.started_at,
      step: row.step,
      attempt: row.attempt,
      stepStartedAt: row.step_started_at,
      stepSegment: row.step_segment,
      stepOpen: row.step_open === 1,
      segment: row.segment,
      segmentStartedAt: row.segment_started_at,
      closedSeq: row.closed_seq,
    }
  );
}
