import type { Projection } from "../ledger/projection.ts";
import { RunTracer, type RunTracerOptions } from "./run-tracer.ts";
import { runTracesProjection } from "./run-traces.ts";
import { newRunTrace, type RunTrace, type TraceSink } from "./trace-sink.ts";

/**
 * Everything a session needs to trace its runs into one sink: the `run_traces` projection,
 * new runs' trace context and the tracer. Made by `runTracing(sink)` and handed to the
 * runtime as a value, so the tracer's code is bundled only by a Worker that traces (one that
 * imports `@durable-agents/cloudflare/otel`, or calls `runTracing` itself): the session
 * runtime imports none of it.
 */
export interface RunTracing {
  readonly sink: TraceSink;
  /** Keeps each traced run's trace context (registered only when the session traces). */
  readonly projection: Projection;
  /** A new run's trace context, under `parent` (a sub-agent's caller's step) when given. */
  newTrace(parent?: { readonly traceId: string; readonly spanId: string }): RunTrace;
  /** The session's tracer, recording spans into `sink` from the driver and the ledger. */
  tracer(options: Omit<RunTracerOptions, "sink">): RunTracer;
}

/**
 * Traces runs into `sink` (GenAI spans; see tracing/run-tracer.ts). `otelTracing()` from
 * `@durable-agents/cloudflare/otel` calls it with its OTLP sink; call it yourself for any
 * other `TraceSink` (spans kept in memory in a test, another exporter).
 * @example
 * createAgentServer({ agents, tracing: () => runTracing(mySink) });
 */
export function runTracing(sink: TraceSink): RunTracing {
  return {
    sink,
    projection: runTracesProjection,
    newTrace: newRunTrace,
    tracer: (options) => new RunTracer({ ...options, sink }),
  };
}
