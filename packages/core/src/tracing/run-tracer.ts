import { type Clock, systemClock } from "../clock.ts";
import { type ErrorInfo, type LedgerEvent, TERMINAL_KINDS } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { RUN_STATUS_AFTER } from "../ledger/projections/runs.ts";
import { type Logger, silentLogger } from "../logger.ts";
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
import { SinkFailures } from "./sink-failures.ts";
import { derivedSpanId, type SpanRecord, type TraceSink } from "./trace-sink.ts";

export interface RunTracerOptions {
  readonly sql: SqlPort;
  readonly ledger: Ledger;
  readonly sink: TraceSink;
  readonly sessionId: string;
  /** Keeps the isolate alive for a flush (a Durable Object's `ctx.waitUntil`). */
  readonly waitUntil: (promise: Promise<unknown>) => void;
  /**
   * Where a sink's failures are logged (`trace sink failed`, error level, at most one line a
   * minute: sink-failures.ts). Default: silent.
   */
  readonly logger?: Logger;
  /** The clock that spaces those lines. Default: the system clock. */
  readonly clock?: Clock;
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
 *    call or tool call, which runs inside one alarm, is timed around the call itself, and so
 *    is a step attempt that fails (its span ends with ERROR where the attempt failed).
 * 3. One `invoke_agent` span per segment of work: from `run.started` or `run.resumed` to the
 *    event that ends it (a wait for a human or a sub-agent, or an end), recorded once (by the
 *    event whose seq closed it), so a run waiting for days holds no open span and a resumed
 *    run records no duplicate. A later segment links to the first.
 * 4. No span covers a wait, and a child lies within its parent: a step open when its segment
 *    ends (it waits for an approval, or the run ends) is recorded then, under that segment's
 *    span; its continuation after the resume is a span of its own under the new segment's
 *    span, linked to the step's first span, and the step's tool calls then hang under it.
 * 5. Every exported span's parent is exported: each step attempt's span ends, with
 *    `step.completed`, with the end of its segment, or with ERROR when the attempt fails.
 *    A step redriven after a crash (attempt > 1) links to its run's span. An attempt lost
 *    with its isolate recorded nothing, and what it recorded but had not flushed (6) is
 *    lost too: a crash during a step's tool calls loses its model call's `chat` span, ended
 *    but unflushed, and the redriven step does not call the model again.
 * 6. Spans are flushed when a step ends or fails, a run waits or a run ends, through
 *    `waitUntil`.
 * 7. Tracing never changes a run: a sink whose `record` throws loses that span (logged as
 *    `trace sink failed`, rate-limited: sink-failures.ts), never the step, the command or the
 *    append that recorded it. The
 *    tracer records from a ledger listener, after the append committed, so a throw there
 *    would answer a committed command with a 500 and leave the run's later listeners
 *    (ledger.ts invariant 6) to catch up; OpenTelemetry's own SDKs never throw into the
 *    instrumented code either.
 */
export class RunTracer {
  readonly #o: RunTracerOptions;
  /** By run: the step span its last failed attempt recorded, so the `run.failed` that gives up adds no second one. */
  readonly #failed = new Map<string, string>();
  readonly #sinkFailures: SinkFailures;

  constructor(options: RunTracerOptions) {
    this.#o = options;
    this.#sinkFailures = new SinkFailures(
      options.clock ?? systemClock,
      options.logger ?? silentLogger,
    );
    options.ledger.onAppend((events) => this.#committed(events));
  }

  /** Hands a finished span to the sink; a sink that throws loses the span, not the run (7). */
  #record(span: SpanRecord): void {
    try {
      this.#o.sink.record(span);
    } catch (error) {
      this.#sinkFailures.failed(span, error);
      return;
    }
    this.#sinkFailures.recorded();
  }

  /** A model call that ended (with its usage) or failed. */
  model(runId: string, call: ModelCallFacts, startTime: number, endTime: number): void {
    const run = getRunTrace(this.#o.sql, runId);
    if (!run) return;
    const { name, attributes } = chatSpan(this.#ids(run), call);
    this.#record({
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
    this.#record({
      name,
      kind: "internal",
      traceId: run.traceId,
      parentSpanId: currentStepSpanId(run),
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
    return run && { traceId: run.traceId, spanId: currentStepSpanId(run) };
  }

  /**
   * A step attempt that failed (its model call threw, or its answer was refused): its span
   * ends now with ERROR, so the attempt's model span has its parent. A retry is a new attempt.
   */
  stepFailed(
    runId: string,
    step: number,
    attempt: number,
    error: ErrorInfo,
    endTime: number,
  ): void {
    const run = getRunTrace(this.#o.sql, runId);
    if (!run || run.step !== step || run.attempt !== attempt) return;
    if (!run.stepOpen || run.closedSeq !== null) return;
    this.#stepSpan(run, endTime, error);
    this.#failed.set(runId, currentStepSpanId(run));
    this.#o.waitUntil(this.#o.sink.flush());
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
    this.#stepSpan(run, endTime);
  }

  /** The current step's span in the current segment (invariants 4 and 5), ending at `endTime`. */
  #stepSpan(run: RunTraceRecord, endTime: number, error?: ErrorInfo): void {
    const { step, attempt } = run;
    const { name, attributes } = stepSpan(this.#ids(run), step, attempt);
    const continued = run.stepSegment !== run.segment;
    const link = (spanId: string, why: string) => ({
      traceId: run.traceId,
      spanId,
      attributes: { [DURABLE_AGENTS.link]: why },
    });
    this.#record({
      name,
      kind: "internal",
      traceId: run.traceId,
      spanId: currentStepSpanId(run),
      parentSpanId: segmentSpanId(run),
      links: continued
        ? [link(stepSpanId(run, step, attempt), "resume")]
        : attempt > 1
          ? [link(run.spanId, "redrive")]
          : [],
      attributes: { ...attributes, [DURABLE_AGENTS.segment]: run.segment },
      startTime: continued ? run.segmentStartedAt : (run.stepStartedAt ?? run.segmentStartedAt),
      endTime,
      ...(error ? { error } : {}),
    });
  }

  #segment(event: LedgerEvent): void {
    if (event.runId === null) return;
    const run = getRunTrace(this.#o.sql, event.runId);
    if (!run || run.closedSeq !== event.seq) return;
    // A segment closes where the run stops moving (run-traces.ts): its status by the runs rule.
    const status = RUN_STATUS_AFTER[event.kind];
    if (status === undefined) return;
    const { name, attributes } = runSpan(this.#ids(run), status, run.segment);
    const error =
      event.kind === "run.failed"
        ? event.data.error
        : event.kind === "run.aborted"
          ? { code: "aborted", message: event.data.reason }
          : undefined;
    // A step still open ends with its segment (invariant 4), unless its failure recorded it.
    const failed = this.#failed.get(run.runId);
    this.#failed.delete(run.runId);
    if (run.stepOpen && run.stepStartedAt !== null && failed !== currentStepSpanId(run))
      this.#stepSpan(run, event.ts, error);
    this.#record({
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

/**
 * The span id of the current step's attempt in the current segment: its first span's, or,
 * for its continuation after a resume, one derived from that (invariant 4).
 */
export function currentStepSpanId(run: RunTraceRecord): string {
  const first = stepSpanId(run, run.step, run.attempt);
  return run.stepSegment === run.segment ? first : derivedSpanId(first, "segment", run.segment);
}

/** The span id of a step's attempt (its first span), derived from the run's (invariant 1). */
export function stepSpanId(run: RunTraceRecord, step: number, attempt: number): string {
  return derivedSpanId(run.spanId, "step", step, attempt);
}
