import { type UsageSummary, usageSummary } from "../ledger/projections/usage.ts";
import type { SqlPort } from "../sql/port.ts";

/**
 * Prices per million tokens, by model id. The key `"*"` prices anything not
 * listed, including sub-agent tokens (their model is not recorded here).
 * @example
 * const prices = { "gpt-4o-mini": { inputPerMillion: 0.15, outputPerMillion: 0.6 } };
 */
export type PriceTable = Readonly<
  Record<string, { readonly inputPerMillion: number; readonly outputPerMillion: number }>
>;

export interface UsageRollup {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Of `inputTokens`, read from a prompt cache (this session's models only). */
  readonly cachedInputTokens: number;
  /** Of `outputTokens`, spent on reasoning (this session's models only). */
  readonly reasoningTokens: number;
  readonly modelCalls: number;
  readonly toolCalls: number;
  readonly subagentCalls: number;
  /** Sum of priced entries, in the price table's currency; null without a price table. */
  readonly cost: number | null;
  /** Entries the price table has no price for (cost leaves them out). */
  readonly unpriced: string[];
}

export interface UsageView extends UsageSummary {
  /** This session plus its sub-agents. */
  readonly rollup: UsageRollup;
}

/** `GET .../usage`: the session's entries and a roll-up that includes sub-agents. */
export function usageView(sql: SqlPort, prices?: PriceTable): UsageView {
  const summary = usageSummary(sql);
  const priced = [
    ...summary.models.map((m) => ({ key: m.model, lookup: m.model, ...m })),
    ...summary.subagents.map((s) => ({ key: `subagent:${s.agent}`, lookup: "*", ...s })),
  ];
  let cost = 0;
  const unpriced: string[] = [];
  for (const entry of priced) {
    const price = prices?.[entry.lookup] ?? prices?.["*"];
    if (!price) {
      unpriced.push(entry.key);
      continue;
    }
    cost +=
      (entry.inputTokens * price.inputPerMillion + entry.outputTokens * price.outputPerMillion) /
      1e6;
  }
  const sum = (f: (e: (typeof priced)[number]) => number) => priced.reduce((t, e) => t + f(e), 0);
  return {
    ...summary,
    rollup: {
      inputTokens: sum((e) => e.inputTokens),
      outputTokens: sum((e) => e.outputTokens),
      cachedInputTokens: summary.models.reduce((t, m) => t + m.cachedInputTokens, 0),
      reasoningTokens: summary.models.reduce((t, m) => t + m.reasoningTokens, 0),
      modelCalls: summary.models.reduce((t, m) => t + m.calls, 0),
      toolCalls: summary.tools.reduce((t, m) => t + m.calls, 0),
      subagentCalls: summary.subagents.reduce((t, m) => t + m.calls, 0),
      cost: prices ? Math.round(cost * 1e9) / 1e9 : null,
      unpriced: prices ? unpriced : [],
    },
  };
}
