import { type LedgerEvent, TERMINAL_KINDS } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { SqlPort } from "../sql/port.ts";
import {
  chatSpan,
  DURABLE_AGENTS,
  type ModelCallFacts,
  type RunIds,
  runSpan,
  stepSpan,
  type ToolCallFacts,
  toolSpan,
} from "./gen-ai.ts";
import { getRunTrace, type RunTraceRecord } from "./run-traces.ts";
import { derivedSpanId, type TraceSink } from "./trace-sink.ts";

export interface RunTracerOptions {
  readonly sql: SqlPort;
  readonly ledger: Ledger;
  readonly sink: TraceSink;
  readonly sessionId: string;
  /** Keeps the isolate alive for a flush (a Durable Object's `ctx.waitUntil`). */
  readonly waitUntil: (promise: Promise<unknown>) => void;
}

/**
 * The spans of a session's runs, from the run driver's boundaries and the ledger.
 *
 * Invariants:
 * 1. A run's trace context is recorded once, in its `run.started` (`trace`), and every span
 *    of the run is in that trace. The run's first `invoke_agent` span has the recorded span
 *    id; each later one (after a resume) and each step span has an id derived from it
 *    (derivedSpanId); a model or tool span is the child of its step's. So an alarm after an
 *    eviction, in a new isolate, continues the same trace with nothing held in memory.
 * 2. Spans that cross alarms (the run, a step) are recorded from committed ledger events
 *    (`step.completed`, `run.waiting`, a terminal event), with the ledger's times; a model
 *    call or tool call, which runs inside one alarm, is timed around the call itself.
 * 3. One `invoke_agent` span per segment of work: from `run.started` or `run.resumed` to the
 *    event that ends it (a wait for a human or a sub-agent, or an end), recorded once (by the
 *    event whose seq closed it), so a run waiting for days holds no open span and a resumed
 *    run records no duplicate. A later segment links to the first.
 * 4. A step redriven after a crash (attempt > 1) links to its run's span. The lost attempt's
 *    spans were never recorded; the redriven one is what the trace shows.
 * 5. Spans are flushed when a step ends, a run waits or a run ends, through `waitUntil`.
 */
export class RunTracer {
  readonly #o: RunTracerOptions;

  constructor(options: RunTracerOptions) {
    this.#o = options;
    options.ledger.onAppend((events) => this.#committed(events));
  }

  /** A model call that ended (with its usage) or failed. */
  model(runId: string, call: ModelCallFacts, startTime: number, endTime: number): void {
    const run = getRunTrace(this.#o.sql, runId);
    if (!run) return;
    const { name, attributes } = chatSpan(this.#ids(run), call);
    this.#o.sink.record({
      name,
      kind: "client",
      traceId: run.traceId,
      parentSpanId: stepSpanId(run, call.step, call.attempt),
      attributes,
      startTime,
      endTime,
      ...(call.error ? { error: call.error } : {}),
    });
  }

  /** A tool call that completed or failed. */
  tool(runId: string, call: ToolCallFacts, startTime: number, endTime: number): void {
    const run = getRunTrace(this.#o.sql, runId);
    if (!run) return;
    const { name, attributes } = toolSpan(this.#ids(run), call);
    this.#o.sink.record({
      name,
      kind: "internal",
      traceId: run.traceId,
      parentSpanId: stepSpanId(run, call.step, run.attempt),
      attributes,
      startTime,
      endTime,
      ...(call.error ? { error: call.error } : {}),
    });
  }

  /**
   * The span a sub-agent's run started from this run's current step hangs under (the
   * step's), or undefined when this run is not traced.
   */
  stepContext(runId: string): { traceId: string; spanId: string } | undefined {
    const run = getRunTrace(this.#o.sql, runId);
    return run && { traceId: run.traceId, spanId: stepSpanId(run, run.step, run.attempt) };
  }

  #committed(events: readonly LedgerEvent[]): void {
    let flush = false;
    for (const event of events) {
      if (event.runId === null) continue;
      if (event.kind === "step.completed") {
        this.#step(event.runId, event.data.step, event.ts);
        flush = true;
      } else if (TERMINAL_KINDS.has(event.kind) || event.kind === "run.waiting") {
        this.#segment(event);
        flush = true;
      }
    }
    if (flush) this.#o.waitUntil(this.#o.sink.flush());
  }

  #step(runId: string, step: number, endTime: number): void {
    const run = getRunTrace(this.#o.sql, runId);
    if (!run || run.step !== step || run.stepStartedAt === null) return;
    const { name, attributes } = stepSpan(this.#ids(run), step, run.attempt);
    this.#o.sink.record({
      name,
      kind: "internal",
      traceId: run.traceId,
      spanId: stepSpanId(run, step, run.attempt),
      parentSpanId: segmentSpanId(run),
      links:
        run.attempt > 1
          ? [
              {
                traceId: run.traceId,
                spanId: run.spanId,
                attributes: { [DURABLE_AGENTS.link]: "redrive" },
              },
            ]
          : [],
      attributes,
      startTime: run.stepStartedAt,
      endTime,
    });
  }

  #segment(event: LedgerEvent): void {
    if (event.runId === null) return;
    const run = getRunTrace(this.#o.sql, event.runId);
    if (!run || run.closedSeq !== event.seq) return;
    const status = event.kind.slice("run.".length);
    const { name, attributes } = runSpan(this.#ids(run), status, run.segment);
    const error =
      event.kind === "run.failed"
        ? event.data.error
        : event.kind === "run.aborted"
          ? { code: "aborted", message: event.data.reason }
          : undefined;
    this.#o.sink.record({
      name,
      kind: "internal",
      traceId: run.traceId,
      spanId: segmentSpanId(run),
      ...(run.parentSpanId === undefined ? {} : { parentSpanId: run.parentSpanId }),
      links:
        run.segment > 0
          ? [
              {
                traceId: run.traceId,
                spanId: run.spanId,
                attributes: { [DURABLE_AGENTS.link]: "resume" },
              },
            ]
          : [],
      attributes: {
        ...attributes,
        ...(event.kind === "run.waiting"
          ? { [DURABLE_AGENTS.waitingReason]: event.data.reason }
          : {}),
      },
      startTime: run.segmentStartedAt,
      endTime: event.ts,
      ...(error ? { error } : {}),
    });
  }

  #ids(run: RunTraceRecord): RunIds {
    return { agent: run.agent, sessionId: this.#o.sessionId, runId: run.runId };
  }
}

/** The span id of the run's current segment of work (invariant 3). */
export function segmentSpanId(run: RunTraceRecord): string {
  return run.segment === 0 ? run.spanId : derivedSpanId(run.spanId, "segment", run.segment);
}

/** The span id of a step's attempt, derived from the run's (invariant 1). */
export function stepSpanId(run: RunTraceRecord, step: number, attempt: number): string {
  return derivedSpanId(run.spanId, "step", step, attempt);
}
