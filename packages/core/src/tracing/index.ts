export { DURABLE_AGENTS, GEN_AI } from "./gen-ai.ts";
export { RunTracer, type RunTracerOptions, segmentSpanId, stepSpanId } from "./run-tracer.ts";
export { getRunTrace, type RunTraceRecord, runTracesProjection } from "./run-traces.ts";
export { type RunTracing, runTracing } from "./run-tracing.ts";
export {
  derivedSpanId,
  newRunTrace,
  type RunTrace,
  type SpanAttributes,
  type SpanAttributeValue,
  type SpanRecord,
  type TraceSink,
} from "./trace-sink.ts";
