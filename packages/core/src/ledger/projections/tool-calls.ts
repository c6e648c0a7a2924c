import type { SqlPort } from "../../sql/port.ts";
import type { ErrorInfo, JsonValue, LedgerEvent, ToolEffect } from "../events.ts";
import type { Projection } from "../projection.ts";

export type ToolCallStatus =
  | "requested"
  | "awaiting_approval"
  | "approved"
  | "started"
  | "delegated"
  | "completed"
  | "failed"
  | "outcome_unknown";

export interface ToolCallRecord {
  readonly runId: string;
  readonly step: number;
  readonly index: number;
  readonly callId: string;
  readonly name: string;
  readonly args: JsonValue;
  readonly status: ToolCallStatus;
  readonly effect: ToolEffect | null;
  readonly idempotencyKey: string | null;
  readonly result: JsonValue | null;
  readonly error: ErrorInfo | null;
}

interface ToolCallRow {
  run_id: string;
  step: number;
  idx: number;
  call_id: string;
  name: string;
  args: string;
  status: ToolCallStatus;
  effect: ToolEffect | null;
  idempotency_key: string | null;
  result: string | null;
  error: string | null;
}

/**
 * The rows each applied event inserted or changed in `tool_calls`, by the event object the
 * ledger applied (the projection's own writes hand them back: `RETURNING`). Keyed by object,
 * so rows written by an append that rolled back are never handed out (runs.ts `written`).
 */
const written = new WeakMap<LedgerEvent, { rows: ToolCallRow[]; wholeStep: boolean }>();

/** The tool-call rows one event wrote (`toolCallsWrittenBy`). */
export interface ToolCallsWritten {
  /** The rows as the event left them, in call order for an insert. */
  readonly calls: ToolCallRecord[];
  /**
   * The event inserted its step's calls (`model.completed`, the only insert): `calls` is the
   * whole step. Otherwise it changed the calls in `calls` (one, by call id) and no other.
   */
  readonly wholeStep: boolean;
}

/**
 * The tool-call rows `event` inserted or changed, as it left them; undefined when it wrote
 * none. For events of a committed append (`Ledger.onAppend`). Reads nothing: the rows come
 * from the writes.
 */
export function toolCallsWrittenBy(event: LedgerEvent): ToolCallsWritten | undefined {
  const entry = written.get(event);
  return entry && { calls: entry.rows.map(toRecord), wholeStep: entry.wholeStep };
}

/** Every tool call the model asked for, and how far it got. Drives recovery of the tool phase. */
export const toolCallsProjection: Projection = {
  name: "tool_calls",
  version: 3,
  create: [
    "CREATE TABLE tool_calls (run_id TEXT NOT NULL, step INTEGER NOT NULL, idx INTEGER NOT NULL, call_id TEXT NOT NULL, name TEXT NOT NULL, args TEXT NOT NULL, status TEXT NOT NULL, effect TEXT, idempotency_key TEXT, result TEXT, error TEXT, PRIMARY KEY (run_id, step, call_id))",
  ],
  drop: ["DROP TABLE IF EXISTS tool_calls"],
  apply(sql, event) {
    const keep = (rows: ToolCallRow[], wholeStep: boolean) => {
      if (rows.length > 0) written.set(event, { rows, wholeStep });
    };
    const set = (step: number, callId: string, assignments: string, ...params: (string | null)[]) =>
      keep(
        sql.exec<ToolCallRow>(
          `UPDATE tool_calls SET ${assignments} WHERE run_id = ? AND step = ? AND call_id = ? RETURNING *`,
          ...params,
          event.runId,
          step,
          callId,
        ),
        false,
      );
    switch (event.kind) {
      case "model.completed": {
        const rows = event.data.toolCalls.flatMap((call, idx) =>
          sql.exec<ToolCallRow>(
            "INSERT INTO tool_calls (run_id, step, idx, call_id, name, args, status) VALUES (?, ?, ?, ?, ?, ?, 'requested') RETURNING *",
            event.runId,
            event.data.step,
            idx,
            call.callId,
            call.name,
            JSON.stringify(call.args),
          ),
        );
        return keep(rows, true);
      }
      case "tool.started": {
        const { step, callId, effect, idempotencyKey } = event.data;
        return set(
          step,
          callId,
          "status = 'started', effect = ?, idempotency_key = ?",
          effect,
          idempotencyKey,
        );
      }
      case "approval.requested":
        return set(event.data.step, event.data.callId, "status = 'awaiting_approval'");
      case "approval.resolved": {
        // A denial is followed by tool.failed in the same batch; an approval (of a call that
        // waited for one, or of an irreversible call whose outcome was unknown) lets it run.
        if (!event.data.approved) return;
        const args = event.data.args === undefined ? null : JSON.stringify(event.data.args);
        return set(
          event.data.step,
          event.data.callId,
          "status = 'approved', args = coalesce(?, args)",
          args,
        );
      }
      case "subagent.started":
      case "workflow.started":
        return set(event.data.step, event.data.callId, "status = 'delegated'");
      case "tool.completed":
        return set(
          event.data.step,
          event.data.callId,
          "status = 'completed', result = ?",
          JSON.stringify(event.data.result),
        );
      case "tool.failed":
        return set(
          event.data.step,
          event.data.callId,
          "status = 'failed', error = ?",
          JSON.stringify(event.data.error),
        );
      case "tool.outcome_unknown":
        return set(event.data.step, event.data.callId, "status = 'outcome_unknown'");
      default:
        return;
    }
  },
};

export function stepToolCalls(sql: SqlPort, runId: string, step: number): ToolCallRecord[] {
  return sql
    .exec<ToolCallRow>(
      "SELECT * FROM tool_calls WHERE run_id = ? AND step = ? ORDER BY idx",
      runId,
      step,
    )
    .map(toRecord);
}

function toRecord(row: ToolCallRow): ToolCallRecord {
  return {
    runId: row.run_id,
    step: row.step,
    index: row.idx,
    callId: row.call_id,
    name: row.name,
    args: JSON.parse(row.args) as JsonValue,
    status: row.status,
    effect: row.effect,
    idempotencyKey: row.idempotency_key,
    result: row.result === null ? null : (JSON.parse(row.result) as JsonValue),
    error: row.error === null ? null : (JSON.parse(row.error) as ErrorInfo),
  };
}

/** A run's calls still handed to a sub-agent or a Workflow (any step), in step and call order. */
export function delegatedCalls(sql: SqlPort, runId: string): ToolCallRecord[] {
  const steps = sql.exec<{ step: number }>(
    "SELECT DISTINCT step FROM tool_calls WHERE run_id = ? AND status = 'delegated' ORDER BY step",
    runId,
  );
  return steps.flatMap(({ step }) =>
    stepToolCalls(sql, runId, step).filter((c) => c.status === "delegated"),
  );
}
