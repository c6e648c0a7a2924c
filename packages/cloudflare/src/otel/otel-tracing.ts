import { type RunTracing, runTracing } from "@durable-agents/core";
import { otlpTraceSink } from "./otlp-sink.ts";

type FromEnv<T> = T | ((env: Record<string, unknown>) => T);

export interface OtelTracingOptions {
  /**
   * The OTLP/HTTP traces URL. Default: the env var `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces` (the OpenTelemetry exporter variables). No URL:
   * the session is not traced.
   */
  readonly endpoint?: FromEnv<string | undefined>;
  /** Headers of each export (an API key). Default: `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`). */
  readonly headers?: FromEnv<Record<string, string> | undefined>;
  /** `service.name` of the spans. Default: `OTEL_SERVICE_NAME`, else `durable-agents`. */
  readonly serviceName?: string;
}

/**
 * OpenTelemetry traces of every run (GenAI spans: `invoke_agent`, steps, `chat`,
 * `execute_tool`), exported with OTLP over HTTP (JSON). Pass it as createAgentServer's
 * `tracing`; each session object calls it once with its env.
 * @example
 * import { otelTracing } from "@durable-agents/cloudflare/otel";
 * export const AgentSession = createAgentServer({ agents, tracing: otelTracing() });
 * // wrangler.jsonc: "vars": { "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example.com" }
 */
export function otelTracing(
  options: OtelTracingOptions = {},
): (env: Record<string, unknown>) => RunTracing | undefined {
  return (env) => {
    const url = resolve(options.endpoint, env) ?? defaultEndpoint(env);
    if (url === undefined) return undefined;
    return runTracing(
      otlpTraceSink({
        url,
        headers: resolve(options.headers, env) ?? parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
        serviceName:
          options.serviceName ??
          (typeof env.OTEL_SERVICE_NAME === "string" ? env.OTEL_SERVICE_NAME : "durable-agents"),
      }),
    );
  };
}

function resolve<T>(value: FromEnv<T> | undefined, env: Record<string, unknown>): T | undefined {
  return typeof value === "function" ? (value as (env: Record<string, unknown>) => T)(env) : value;
}

function defaultEndpoint(env: Record<string, unknown>): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (typeof traces === "string" && traces !== "") return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (typeof base === "string" && base !== "") return `${base.replace(/\/+$/, "")}/v1/traces`;
  return undefined;
}

/** `OTEL_EXPORTER_OTLP_HEADERS`: comma-separated `key=value` pairs, values URL-encoded. */
function parseHeaders(value: unknown): Record<string, string> | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const headers: Record<string, string> = {};
  for (const pair of value.split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    headers[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}
