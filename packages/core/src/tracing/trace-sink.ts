/**
 * The tracing port: where a session's spans go. Core records finished spans through it and
 * knows nothing of OpenTelemetry's SDK; `@durable-agents/cloudflare/otel` implements it with
 * the OpenTelemetry API and SDK and exports OTLP over HTTP. Without a sink nothing is
 * recorded, no trace ids are written and no exporter is loaded.
 *
 * Spans are recorded when they end, with their start and end times: a run and its steps
 * outlive any one isolate (a step's model call and its tools run in different alarms, and a
 * crash can fall between), so their spans are rebuilt from the ledger's timestamps and from
 * ids that are derived from the run's recorded trace context, not held in memory.
 */

/** A run's trace context, recorded in its `run.started` (W3C trace-context ids, lowercase hex). */
export interface RunTrace {
  /** 32 hex characters. */
  readonly traceId: string;
  /** The run span's id, 16 hex characters. */
  readonly spanId: string;
  /** The span the run's spans hang under: the calling step's, for a sub-agent's run. */
  readonly parentSpanId?: string;
}

export type SpanAttributeValue = string | number | boolean | readonly string[];
export type SpanAttributes = Readonly<Record<string, SpanAttributeValue>>;

/** One finished span. Times are epoch milliseconds. */
export interface SpanRecord {
  readonly name: string;
  /** `client` for a call that leaves the process (a model call), else `internal`. */
  readonly kind: "internal" | "client";
  readonly traceId: string;
  /** The span's own id; absent: the sink gives it a new one. */
  readonly spanId?: string;
  /** Absent: a root span. */
  readonly parentSpanId?: string;
  readonly links?: readonly {
    readonly traceId: string;
    readonly spanId: string;
    readonly attributes?: SpanAttributes;
  }[];
  readonly attributes: SpanAttributes;
  readonly startTime: number;
  readonly endTime: number;
  /** Set when the operation failed: the span's status is ERROR with this message. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** Receives finished spans and sends them on (see `@durable-agents/cloudflare/otel`). */
export interface TraceSink {
  record(span: SpanRecord): void;
  /** Sends what has been recorded. Never rejects: an export failure is the sink's to log. */
  flush(): Promise<void>;
}

/**
 * A new run's trace context: random ids from `crypto.getRandomValues` (W3C: not all zero);
 * in `parent`'s trace, under its span, when given (a sub-agent's run under its caller's step).
 */
export function newRunTrace(parent?: {
  readonly traceId: string;
  readonly spanId: string;
}): RunTrace {
  if (parent) return { traceId: parent.traceId, spanId: randomHex(8), parentSpanId: parent.spanId };
  return { traceId: randomHex(16), spanId: randomHex(8) };
}

function randomHex(bytes: number): string {
  const buffer = crypto.getRandomValues(new Uint8Array(bytes));
  buffer[0] = (buffer[0] ?? 0) | 1; // never all zero, which W3C trace context calls invalid
  return [...buffer].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A span id derived from a parent span id and a name (FNV-1a, 64 bits, as hex): the same
 * inputs give the same id in any isolate, so a step's span is named by its run's trace
 * context, its step number and attempt, and a redriven alarm finds it again with no lookup.
 */
export function derivedSpanId(parent: string, ...parts: readonly (string | number)[]): string {
  let hash = 0xcbf29ce484222325n;
  for (const char of `${parent}/${parts.join("/")}`) {
    hash ^= BigInt(char.charCodeAt(0));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return (hash === 0n ? 1n : hash).toString(16).padStart(16, "0");
}
