import type { LedgerEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { getRun, type RunRecord, runWrittenBy } from "../ledger/projections/runs.ts";
import {
  stepToolCalls,
  type ToolCallRecord,
  toolCallsWrittenBy,
} from "../ledger/projections/tool-calls.ts";
import type { SqlPort } from "../sql/port.ts";

/**
 * The running runs of a session as their rows are, for the run driver's decisions: a run's
 * record (`runs`) and the calls of its current step (`tool_calls`), read once when a decision
 * first needs them (or taken from the append that started or resumed the run), then moved by
 * the rows each committed append's projections wrote (`runWrittenBy`, `toolCallsWrittenBy`:
 * the writes' own `RETURNING` rows), so a step's decisions read no row again.
 *
 * Invariants:
 * 1. A followed run's record equals its `runs` row after every committed append, and its step
 *    calls equal `stepToolCalls(run, step)` for their step: only the projections write those
 *    rows, only inside an append of this ledger, and each write hands its row back (a step's
 *    own moves of the run, the columns they change, over the record kept before them). A command
 *    between two actions (an interrupt request, an abort, an approval) moves the record like
 *    any other append; nothing is assumed about who appended. Every committed batch reaches
 *    this listener, though a listener before it throws (ledger.ts invariant 6).
 * 2. Only running runs are followed: a run that stops (waits, ends, is interrupted, aborted)
 *    is dropped, and read again when it runs next. The records live in memory only, so a
 *    fresh object (eviction, crash, deploy) reads each run once again.
 * 3. A batch that reaches the listeners out of order (an append made by a listener of an
 *    earlier append) never moves a record back: the runs it touches are dropped and read again.
 */
export class RunRecords {
  readonly #sql: SqlPort;
  readonly #runs = new Map<string, RunRecord>();
  readonly #calls = new Map<string, { readonly step: number; calls: ToolCallRecord[] }>();
  readonly #dropped: (runId: string) => void;
  /** The last seq seen by the listener: a batch that ends before it came out of order. */
  #seen = 0;

  /** `dropped`: called when a run is no longer followed (what was kept with it goes too). */
  constructor(sql: SqlPort, ledger: Ledger, dropped: (runId: string) => void) {
    this.#sql = sql;
    this.#dropped = dropped;
    ledger.onAppend((events) => this.#committed(events));
  }

  /** Whether the run is followed (running, its record in memory). */
  follows(runId: string): boolean {
    return this.#runs.has(runId);
  }

  /** The run's record: from memory when followed, else read once (and followed when running). */
  run(runId: string): RunRecord | undefined {
    const known = this.#runs.get(runId);
    if (known) return known;
    const run = getRun(this.#sql, runId);
    if (run?.status === "running") this.#runs.set(runId, run);
    return run;
  }

  /** The calls of the run's current step (`run.step`): from memory when followed, else read. */
  stepCalls(run: RunRecord): readonly ToolCallRecord[] {
    const known = this.#calls.get(run.runId);
    if (known?.step === run.step) return known.calls;
    const calls = stepToolCalls(this.#sql, run.runId, run.step);
    if (this.#runs.has(run.runId)) this.#calls.set(run.runId, { step: run.step, calls });
    return calls;
  }

  #committed(events: readonly LedgerEvent[]): void {
    const first = events[0]?.seq ?? 0;
    const inOrder = first > this.#seen;
    this.#seen = Math.max(this.#seen, events.at(-1)?.seq ?? 0);
    for (const event of events) {
      const runId = event.runId;
      if (runId === null) continue;
      if (!inOrder) {
        this.#drop(runId);
        continue;
      }
      const after = runWrittenBy(event, this.#runs.get(runId));
      if (after?.status === "running") this.#runs.set(runId, after);
      else if (after) this.#drop(runId);
      if (this.#runs.has(runId)) this.#callsMoved(runId, event);
    }
  }

  /** The step calls kept for the run take the rows the event wrote. */
  #callsMoved(runId: string, event: LedgerEvent): void {
    const written = toolCallsWrittenBy(event);
    if (!written) return;
    const step = written.calls[0]?.step;
    if (written.wholeStep && step !== undefined) {
      this.#calls.set(runId, { step, calls: written.calls });
      return;
    }
    const known = this.#calls.get(runId);
    if (known === undefined || known.step !== step) return; // Not the kept step's call.
    const changed = new Map(written.calls.map((c) => [c.callId, c]));
    // A changed call the kept step does not have (never expected): the step is read again.
    if (written.calls.some((w) => !known.calls.some((c) => c.callId === w.callId)))
      this.#calls.delete(runId);
    else known.calls = known.calls.map((c) => changed.get(c.callId) ?? c);
  }

  #drop(runId: string): void {
    if (this.#runs.delete(runId)) this.#dropped(runId);
    this.#calls.delete(runId);
  }
}
