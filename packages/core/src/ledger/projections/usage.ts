import type { SqlPort } from "../../sql/port.ts";
import type { Projection } from "../projection.ts";
import { spentUsageOf } from "./usage-entries.ts";

export interface UsageSummary {
  readonly models: {
    model: string;
    calls: number;
    inputTokens: number;
    outputTokens: number;
    /** Of `inputTokens`, read from the provider's prompt cache. */
    cachedInputTokens: number;
    /** Of `outputTokens`, spent on reasoning. */
    reasoningTokens: number;
  }[];
  readonly tools: { name: string; calls: number; failures: number }[];
  /** Sub-agent calls by child agent, with the tokens their answers reported. */
  readonly subagents: { agent: string; calls: number; inputTokens: number; outputTokens: number }[];
  /** Application metrics (`usage.recorded`): how often and the sum of values. */
  readonly metrics: { metric: string; count: number; total: number }[];
}

/**
 * Token usage per model, executions per tool, sub-agent calls and custom metrics, summed over
 * what the session spent (`spentUsageOf`: a fork's copied prefix is its source's).
 */
export const usageProjection: Projection = {
  name: "usage",
  // 4: usage_models gained cached_input_tokens and reasoning_tokens (a session written by
  // version 3 rebuilds the tables from its ledger when it opens). 5: no usage_runs (a run's
  // tokens are summed from its usage_entries when its sub-agent reply needs them), one
  // statement less per model call.
  version: 5,
  create: [
    "CREATE TABLE usage_subagents (agent TEXT PRIMARY KEY, calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL)",
    "CREATE TABLE usage_metrics (metric TEXT PRIMARY KEY, count INTEGER NOT NULL, total REAL NOT NULL)",
    "CREATE TABLE usage_models (model TEXT PRIMARY KEY, calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cached_input_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL)",
    "CREATE TABLE usage_tools (name TEXT PRIMARY KEY, calls INTEGER NOT NULL, failures INTEGER NOT NULL)",
  ],
  drop: [
    "DROP TABLE IF EXISTS usage_models",
    "DROP TABLE IF EXISTS usage_tools",
    "DROP TABLE IF EXISTS usage_subagents",
    "DROP TABLE IF EXISTS usage_metrics",
    // Version 4's per-run sums: a run's tokens are read from usage_entries now (runUsage).
    "DROP TABLE IF EXISTS usage_runs",
  ],
  apply(sql, event, copied) {
    // The one mapping from events to spent usage (spentUsageOf), summed here per name.
    const fact = spentUsageOf(event, copied);
    switch (fact?.kind) {
      case "model":
        sql.exec(
          "INSERT INTO usage_models (model, calls, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens) VALUES (?, 1, ?, ?, ?, ?) ON CONFLICT (model) DO UPDATE SET calls = calls + 1, input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens, cached_input_tokens = cached_input_tokens + excluded.cached_input_tokens, reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens",
          fact.name,
          fact.inputTokens,
          fact.outputTokens,
          fact.cachedInputTokens,
          fact.reasoningTokens,
        );
        return;
      case "tool":
        sql.exec(
          "INSERT INTO usage_tools (name, calls, failures) VALUES (?, 1, ?) ON CONFLICT (name) DO UPDATE SET calls = calls + 1, failures = failures + excluded.failures",
          fact.name,
          event.kind === "tool.failed" ? 1 : 0,
        );
        return;
      case "subagent":
        sql.exec(
          "INSERT INTO usage_subagents (agent, calls, input_tokens, output_tokens) VALUES (?, 1, ?, ?) ON CONFLICT (agent) DO UPDATE SET calls = calls + 1, input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens",
          fact.name,
          fact.inputTokens,
          fact.outputTokens,
        );
        return;
      case "metric":
        sql.exec(
          "INSERT INTO usage_metrics (metric, count, total) VALUES (?, 1, ?) ON CONFLICT (metric) DO UPDATE SET count = count + 1, total = total + excluded.total",
          fact.name,
          fact.value,
        );
        return;
      case undefined:
        return;
    }
  },
};

export function usageSummary(sql: SqlPort): UsageSummary {
  return {
    models: sql
      .exec<{
        model: string;
        calls: number;
        input_tokens: number;
        output_tokens: number;
        cached_input_tokens: number;
        reasoning_tokens: number;
      }>(
        "SELECT model, calls, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens FROM usage_models ORDER BY model",
      )
      .map((r) => ({
        model: r.model,
        calls: r.calls,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        cachedInputTokens: r.cached_input_tokens,
        reasoningTokens: r.reasoning_tokens,
      })),
    tools: sql.exec<{ name: string; calls: number; failures: number }>(
      "SELECT name, calls, failures FROM usage_tools ORDER BY name",
    ),
    subagents: sql
      .exec<{ agent: string; calls: number; input_tokens: number; output_tokens: number }>(
        "SELECT agent, calls, input_tokens, output_tokens FROM usage_subagents ORDER BY agent",
      )
      .map((r) => ({
        agent: r.agent,
        calls: r.calls,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
      })),
    metrics: sql.exec<{ metric: string; count: number; total: number }>(
      "SELECT metric, count, total FROM usage_metrics ORDER BY metric",
    ),
  };
}
