/**
 * Stream server settings from Worker vars. Production defaults: long-poll 20 s, SSE
 * responses end after 60 s, SSE keep-alive every 15 s, 8 MiB request bodies, 1 MiB reads.
 */
import { DEFAULT_STREAM_CONFIG, type StreamConfig } from "@durable-agents/core/streams";

export interface StreamVars {
  readonly STREAMS_LONG_POLL_TIMEOUT_MS?: string;
  readonly STREAMS_SSE_MAX_DURATION_MS?: string;
  readonly STREAMS_SSE_KEEPALIVE_MS?: string;
  readonly STREAMS_MAX_APPEND_BYTES?: string;
  readonly STREAMS_CACHE_VISIBILITY?: string;
}

/** Parsed once per env object (an isolate's env is the same object on every request). */
const parsed = new WeakMap<StreamVars, StreamConfig>();

export function streamConfigFromVars(vars: StreamVars): StreamConfig {
  let config = parsed.get(vars);
  if (config === undefined) {
    config = parseStreamConfig(vars);
    parsed.set(vars, config);
  }
  return config;
}

function parseStreamConfig(vars: StreamVars): StreamConfig {
  const base = DEFAULT_STREAM_CONFIG;
  const num = (value: string | undefined, fallback: number): number => {
    const n = Number(value);
    return value === undefined || !Number.isFinite(n) || n <= 0 ? fallback : n;
  };
  return {
    ...base,
    maxAppendBytes: num(vars.STREAMS_MAX_APPEND_BYTES, base.maxAppendBytes),
    read: {
      ...base.read,
      longPollTimeoutMs: num(vars.STREAMS_LONG_POLL_TIMEOUT_MS, base.read.longPollTimeoutMs),
      sseMaxDurationMs: num(vars.STREAMS_SSE_MAX_DURATION_MS, base.read.sseMaxDurationMs),
      sseKeepAliveMs: num(vars.STREAMS_SSE_KEEPALIVE_MS, base.read.sseKeepAliveMs),
      cacheVisibility:
        vars.STREAMS_CACHE_VISIBILITY === "private" ? "private" : base.read.cacheVisibility,
    },
  };
}
