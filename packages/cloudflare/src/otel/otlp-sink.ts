import type { SpanRecord, TraceSink } from "@durable-agents/core";
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  type IdGenerator,
  RandomIdGenerator,
  TracerProvider,
} from "@opentelemetry/sdk-trace";

export interface OtlpSinkOptions {
  /** The OTLP/HTTP traces URL, such as `http://127.0.0.1:4318/v1/traces`. */
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** The resource's `service.name`. */
  readonly serviceName: string;
  /** Where an export failure is reported. */
  readonly onError?: (error: unknown) => void;
}

/**
 * A TraceSink on the OpenTelemetry SDK: each recorded span is started and ended through the
 * SDK's tracer (with its recorded times, parent and links), batched, and sent by the official
 * OTLP/HTTP JSON exporter. That exporter's browser build posts with `fetch` (no XHR, no
 * `node:http`), which workerd runs; bundlers pick it through the `browser`/default conditions.
 *
 * Why ids are preset: a run and its steps outlive the isolate that started them, so their
 * span ids are recorded (the run's) or derived (a step's) by core, and a span that ends in a
 * later alarm must carry that id. The SDK takes ids only from its IdGenerator, so this one
 * hands out the preset id for the span being started, and random ids otherwise.
 */
export function otlpTraceSink(options: OtlpSinkOptions): TraceSink {
  const ids = new PresetIds();
  const provider = new TracerProvider({
    idGenerator: ids,
    resource: resourceFromAttributes({ "service.name": options.serviceName }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: options.url, headers: { ...options.headers } }),
      }),
    ],
  });
  const tracer = provider.getTracer("@durable-agents/cloudflare");
  return {
    record(span: SpanRecord) {
      ids.preset(span.spanId, span.parentSpanId === undefined ? span.traceId : undefined);
      const started = tracer.startSpan(
        span.name,
        {
          kind: span.kind === "client" ? SpanKind.CLIENT : SpanKind.INTERNAL,
          startTime: span.startTime,
          attributes: span.attributes as Attributes,
          links: (span.links ?? []).map((link) => ({
            context: remote(link.traceId, link.spanId),
            ...(link.attributes ? { attributes: link.attributes as Attributes } : {}),
          })),
        },
        span.parentSpanId === undefined
          ? ROOT_CONTEXT
          : parentContext(span.traceId, span.parentSpanId),
      );
      ids.preset(undefined, undefined);
      if (span.error)
        started.setStatus({
          code: SpanStatusCode.ERROR,
          message: `${span.error.code}: ${span.error.message}`,
        });
      started.end(span.endTime);
    },
    async flush() {
      try {
        await provider.forceFlush();
      } catch (error) {
        options.onError?.(error);
      }
    },
  };
}

function remote(traceId: string, spanId: string) {
  return { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true };
}

function parentContext(traceId: string, spanId: string): Context {
  return trace.setSpanContext(ROOT_CONTEXT, remote(traceId, spanId));
}

/** Random ids, except for the one span being started with preset ids (see otlpTraceSink). */
class PresetIds implements IdGenerator {
  readonly #random = new RandomIdGenerator();
  #spanId: string | undefined;
  #traceId: string | undefined;

  preset(spanId: string | undefined, traceId: string | undefined): void {
    this.#spanId = spanId;
    this.#traceId = traceId;
  }

  generateSpanId(): string {
    const id = this.#spanId;
    this.#spanId = undefined;
    return id ?? this.#random.generateSpanId();
  }

  generateTraceId(): string {
    const id = this.#traceId;
    this.#traceId = undefined;
    return id ?? this.#random.generateTraceId();
  }
}
