// @durable-agents/cloudflare/otel: OpenTelemetry traces of runs, exported with OTLP/HTTP. A
// separate entry point, so a Worker that does not trace bundles no OpenTelemetry.

export { type OtelTracingOptions, otelTracing } from "./otel-tracing.ts";
export { type OtlpSinkOptions, otlpTraceSink } from "./otlp-sink.ts";
