import type { SqlPort } from "../../sql/port.ts";
import type {
  ErrorInfo,
  EventKind,
  EventPayloads,
  JsonValue,
  LedgerEvent,
  ParentRef,
} from "../events.ts";
import type { Projection } from "../projection.ts";

export type RunStatus = "running" | "waiting" | "completed" | "failed" | "interrupted" | "aborted";

const RUN_STATUS_TABLE = {
  "run.started": "running",
  "run.resumed": "running",
  "run.waiting": "waiting",
  "run.completed": "completed",
  "run.failed": "failed",
  "run.interrupted": "interrupted",
  "run.aborted": "aborted",
} as const satisfies Partial<Record<EventKind, RunStatus>>;

/**
 * The exact table as a type, in the types-only contract: a client that cannot import core at
 * run time declares its copy with this type, so any drift from core's rule fails its build.
 */
export type RunStatusAfter = typeof RUN_STATUS_TABLE;

/** The status a run has after each event kind that moves it (as the projection below sets it). */
export const RUN_STATUS_AFTER: Readonly<Partial<Record<EventKind, RunStatus>>> = RUN_STATUS_TABLE;

/** Where the current step is: between steps, inside the model call, or running tools. */
export type RunPhase = "between" | "model" | "tools";

export interface RunRecord {
  readonly runId: string;
  readonly phase: RunPhase;
  readonly agent: string;
  readonly status: RunStatus;
  readonly step: number;
  /** The step count when the run last (re)started; maxSteps counts from here. */
  readonly stepBase: number;
  readonly attempt: number;
  readonly interruptRequested: boolean;
  /** The reason given with the pending interrupt request (`run.interrupt_requested`), if any. */
  readonly interruptReason: string | null;
  readonly waitingReason: string | null;
  readonly output: JsonValue | null;
  readonly error: ErrorInfo | null;
  /** Set when this run answers a parent session's tool call (a sub-agent). */
  readonly parent: ParentRef | null;
  readonly startedSeq: number;
  readonly updatedSeq: number;
  /** How many times the run was put back to running (`run.resumed`: resumes, approvals, retries). */
  readonly resumeCount: number;
}

interface RunRow {
  run_id: string;
  phase: RunPhase;
  agent: string;
  status: RunStatus;
  step: number;
  step_base: number;
  attempt: number;
  interrupt_requested: number;
  interrupt_reason: string | null;
  waiting_reason: string | null;
  output: string | null;
  error: string | null;
  parent: string | null;
  started_seq: number;
  updated_seq: number;
  resume_count: number;
}

const COLUMNS =
  "run_id, agent, status, phase, step, step_base, attempt, interrupt_requested, interrupt_reason, waiting_reason, output, error, parent, started_seq, updated_seq, resume_count";

/**
 * The row each applied event left in `runs`, by the event object the ledger applied (the
 * projection's own write hands it back: `RETURNING`). An event that did not change a row has
 * none. Keyed by object, so a row written by an append that rolled back is never handed out
 * (its event objects never reach `Ledger.onAppend`), and entries go with their events.
 */
const written = new WeakMap<LedgerEvent, RunRow | StepMove>();

/**
 * What a step's own moves of the run change (`step.started`, `model.completed`,
 * `step.completed`: the phase, and the step and attempt a step starts), as their write hands
 * it back. Three of these per step, so they return these 4 columns rather than the 16 of a
 * record: `RETURNING` a row costs about what reading it does (docs/benchmarks.md, "Statements
 * per step, fourth cut"), and the rest of the record is the one the run had before.
 */
const STEP_MOVE = "phase, step, attempt, updated_seq";
type StepMove = Pick<RunRow, "phase" | "step" | "attempt" | "updated_seq">;

/**
 * The run record as `event` left it, when applying it changed the run's row (`run.started`,
 * `step.started`, `model.completed`, `step.completed` and every status move), else undefined.
 * For events of a committed append (`Ledger.onAppend`) or, inside an append, for an event the
 * runs projection has applied (it applies first). Reads nothing: the row comes from the write.
 *
 * A step's own moves hand back only what they change (`StepMove`): their record is `before`
 * (the run's record as it was before `event`, which the caller keeps) with those columns, and
 * undefined without it. Every other write hands back its whole row.
 */
export function runWrittenBy(event: LedgerEvent, before?: RunRecord): RunRecord | undefined {
  const row = written.get(event);
  if (row === undefined || "run_id" in row) return row && toRecord(row);
  if (before === undefined || before.runId !== event.runId) return undefined;
  return {
    ...before,
    phase: row.phase,
    step: row.step,
    attempt: row.attempt,
    updatedSeq: row.updated_seq,
  };
}

/** Run status, current step and the terminal outcome of every run of the session. */
export const runsProjection: Projection = {
  name: "runs",
  version: 6,
  create: [
    "CREATE TABLE runs (run_id TEXT PRIMARY KEY, agent TEXT NOT NULL, status TEXT NOT NULL, phase TEXT NOT NULL, step INTEGER NOT NULL, step_base INTEGER NOT NULL DEFAULT 0, attempt INTEGER NOT NULL, interrupt_requested INTEGER NOT NULL, interrupt_reason TEXT, waiting_reason TEXT, output TEXT, error TEXT, parent TEXT, started_seq INTEGER NOT NULL, updated_seq INTEGER NOT NULL, resume_count INTEGER NOT NULL DEFAULT 0, model_options TEXT, metadata TEXT)",
    "CREATE INDEX runs_by_start ON runs (started_seq)",
  ],
  drop: ["DROP TABLE IF EXISTS runs"],
  apply(sql, event) {
    const { runId, seq } = event;
    const keep = (rows: RunRow[]) => {
      if (rows[0]) written.set(event, rows[0]);
    };
    const set = (assignments: string, ...params: (string | number | null)[]) =>
      keep(
        sql.exec<RunRow>(
          `UPDATE runs SET ${assignments}, updated_seq = ? WHERE run_id = ? RETURNING ${COLUMNS}`,
          ...params,
          seq,
          runId,
        ),
      );
    // A step's own move: only the columns of StepMove change, and only those come back.
    const move = (assignments: string, ...params: (string | number)[]) => {
      const [row] = sql.exec<StepMove>(
        `UPDATE runs SET ${assignments}, updated_seq = ? WHERE run_id = ? RETURNING ${STEP_MOVE}`,
        ...params,
        seq,
        runId,
      );
      if (row) written.set(event, row);
    };
    switch (event.kind) {
      case "run.started":
        return keep(
          sql.exec<RunRow>(
            `INSERT INTO runs (run_id, agent, status, phase, step, attempt, interrupt_requested, parent, started_seq, updated_seq, model_options, metadata) VALUES (?, ?, 'running', 'between', 0, 0, 0, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
            runId,
            event.data.agent,
            event.data.parent ? JSON.stringify(event.data.parent) : null,
            seq,
            seq,
            event.data.modelOptions ? JSON.stringify(event.data.modelOptions) : null,
            event.data.metadata ? JSON.stringify(event.data.metadata) : null,
          ),
        );
      case "step.started":
        return move("phase = 'model', step = ?, attempt = ?", event.data.step, event.data.attempt);
      case "model.completed":
        return move("phase = ?", event.data.toolCalls.length > 0 ? "tools" : "model");
      case "step.completed":
        return move("phase = 'between'");
      case "run.resumed": {
        const fresh = startsNewStep(event.data.mode);
        return set(
          `status = 'running', resume_count = resume_count + 1, waiting_reason = NULL, interrupt_requested = 0, interrupt_reason = NULL, error = NULL, step_base = step${fresh ? ", phase = 'between'" : ""}`,
        );
      }
      case "run.interrupt_requested":
        return set("interrupt_requested = 1, interrupt_reason = ?", event.data.reason);
      case "run.waiting":
        return set("status = 'waiting', waiting_reason = ?", event.data.reason);
      case "run.completed":
        return set("status = 'completed', output = ?", JSON.stringify(event.data.output));
      case "run.failed":
        return set("status = 'failed', error = ?", JSON.stringify(event.data.error));
      case "run.interrupted":
        return set("status = 'interrupted', interrupt_requested = 0, interrupt_reason = NULL");
      case "run.aborted":
        return set("status = 'aborted'");
      default:
        return;
    }
  },
};

/**
 * Whether a resume in `mode` starts a fresh step (a message, a checkpoint, a retry) rather than
 * going on with the step it stopped in (`continue`, `approvals`); the step number keeps growing.
 * The step it leaves is settled in the resume's own append: its calls still delegated fail
 * (run-control.ts) and sub-agents working on them are cancelled (subagent-replies.ts).
 */
export function startsNewStep(mode: EventPayloads["run.resumed"]["mode"]): boolean {
  return mode !== "continue" && mode !== "approvals";
}

export function getRun(sql: SqlPort, runId: string): RunRecord | undefined {
  const row = sql.exec<RunRow>(`SELECT ${COLUMNS} FROM runs WHERE run_id = ?`, runId)[0];
  return row && toRecord(row);
}

/** What a run was started with that its steps and its end read again (`run.started` data). */
export interface RunStartSettings {
  /** The run's model settings (`POST .../runs` `modelOptions`), over the agent's. */
  readonly modelOptions?: EventPayloads["run.started"]["modelOptions"];
  /** The app's own data about the run (`POST .../runs` `{metadata}`). */
  readonly metadata?: EventPayloads["run.started"]["metadata"];
}

/**
 * The run's model options and metadata, as its `run.started` recorded them: one small row,
 * not the event itself (which holds the user's message and files, up to ~1 MB). Every step's
 * model call and the completion hook read them here. `undefined`: no such run.
 */
export function runStartSettings(sql: SqlPort, runId: string): RunStartSettings | undefined {
  const row = sql.exec<{ model_options: string | null; metadata: string | null }>(
    "SELECT model_options, metadata FROM runs WHERE run_id = ?",
    runId,
  )[0];
  if (!row) return undefined;
  return {
    ...(row.model_options !== null ? { modelOptions: JSON.parse(row.model_options) } : {}),
    ...(row.metadata !== null ? { metadata: JSON.parse(row.metadata) } : {}),
  };
}

/** The latest-started run other than `runId`, whatever its status. */
export function previousRun(sql: SqlPort, runId: string): RunRecord | undefined {
  const row = sql.exec<RunRow>(
    `SELECT ${COLUMNS} FROM runs WHERE run_id != ? ORDER BY started_seq DESC LIMIT 1`,
    runId,
  )[0];
  return row && toRecord(row);
}

/** The most recently started run, whatever its status. */
export function latestRun(sql: SqlPort): RunRecord | undefined {
  const row = sql.exec<RunRow>(`SELECT ${COLUMNS} FROM runs ORDER BY started_seq DESC LIMIT 1`)[0];
  return row && toRecord(row);
}

/**
 * The newest `limit` runs started before event `beforeSeq` (null: all of them) that the
 * conversation shows, newest first: a run whose start message (`m<startedSeq>`) the messages
 * projection does not hide. A regenerate hides the run it replaces (messages.ts), so this is
 * the rule `GET .../messages` follows too. Walks `runs_by_start`, one id lookup per run.
 */
export function shownRunsBefore(
  sql: SqlPort,
  beforeSeq: number | null,
  limit: number,
): RunRecord[] {
  return sql
    .exec<RunRow>(
      `SELECT ${COLUMNS} FROM runs WHERE started_seq < ? AND EXISTS (SELECT 1 FROM messages m WHERE m.id = 'm' || runs.started_seq AND m.hidden = 0) ORDER BY started_seq DESC LIMIT ?`,
      beforeSeq ?? Number.MAX_SAFE_INTEGER,
      limit,
    )
    .map(toRecord);
}

function toRecord(row: RunRow): RunRecord {
  return {
    runId: row.run_id,
    phase: row.phase,
    agent: row.agent,
    status: row.status,
    step: row.step,
    stepBase: row.step_base,
    attempt: row.attempt,
    interruptRequested: row.interrupt_requested === 1,
    interruptReason: row.interrupt_reason,
    waitingReason: row.waiting_reason,
    output: row.output === null ? null : (JSON.parse(row.output) as JsonValue),
    error: row.error === null ? null : (JSON.parse(row.error) as ErrorInfo),
    parent: row.parent === null ? null : (JSON.parse(row.parent) as ParentRef),
    startedSeq: row.started_seq,
    updatedSeq: row.updated_seq,
    resumeCount: row.resume_count,
  };
}
