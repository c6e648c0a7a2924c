import * as z from "zod/mini";
import type { SqlPort } from "../../sql/port.ts";
import { text } from "../../validation/fields.ts";
import type { LedgerEvent } from "../events.ts";
import type { Projection } from "../projection.ts";

/** What a usage fact counts: a model call, a tool call, a sub-agent answer, an app metric. */
export const usageKind = z.enum(["model", "tool", "subagent", "metric"]);
export type UsageKind = z.infer<typeof usageKind>;

/** One usage fact of the ledger, as the per-session entries and the D1 index both count it. */
export interface UsageFact {
  readonly kind: UsageKind;
  /** The model id, tool name, child agent or metric name. */
  readonly name: string;
  /** The step it belongs to; null for an app metric (`usage.recorded` has no step). */
  readonly step: number | null;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Of `inputTokens`, read from a prompt cache (models only). */
  readonly cachedInputTokens: number;
  /** Of `outputTokens`, spent on reasoning (models only). */
  readonly reasoningTokens: number;
  /** 1 per tool call (completed or failed), the metric's value, else 0. */
  readonly value: number;
}

/**
 * The usage fact an event carries, if any: the one mapping from ledger events to usage
 * (`model.completed`, a `context.compacted` whose summary a model wrote, a
 * `context.summary_discarded`, `tool.completed`/`tool.failed`, `subagent.completed`,
 * `usage.recorded`).
 */
export function usageFactOf(event: LedgerEvent): UsageFact | undefined {
  const zero = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };
  switch (event.kind) {
    case "model.completed": {
      const { usage } = event.data;
      return {
        kind: "model",
        name: event.data.model,
        step: event.data.step,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        cachedInputTokens: usage.cachedInputTokens ?? 0,
        reasoningTokens: usage.reasoningTokens ?? 0,
        value: 0,
      };
    }
    case "context.compacted":
    case "context.summary_discarded": {
      const { model, usage, step } = event.data;
      if (model === undefined || usage === undefined) return undefined;
      return {
        kind: "model",
        name: model,
        step,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        cachedInputTokens: usage.cachedInputTokens ?? 0,
        reasoningTokens: usage.reasoningTokens ?? 0,
        value: 0,
      };
    }
    case "tool.completed":
    case "tool.failed":
      return { kind: "tool", name: event.data.name, step: event.data.step, ...zero, value: 1 };
    case "subagent.completed":
      return {
        ...zero,
        kind: "subagent",
        name: event.data.agent,
        step: event.data.step,
        inputTokens: event.data.usage.inputTokens,
        outputTokens: event.data.usage.outputTokens,
        value: 0,
      };
    case "usage.recorded":
      return {
        kind: "metric",
        name: event.data.metric,
        step: null,
        ...zero,
        value: event.data.value,
      };
    default:
      return undefined;
  }
}

/**
 * The usage fact this session spent with `event`: `usageFactOf`, except none for copied
 * history (`copied`, a fork's prefix, `Ledger.copiedThrough`), whose calls and tokens were
 * spent, and are counted, by the session it was copied from. Spend is counted once, where
 * it happened: the one rule of the per-session usage (`usage`, `usage_entries`) and the D1
 * index's usage entries.
 */
export function spentUsageOf(event: LedgerEvent, copied: boolean): UsageFact | undefined {
  return copied ? undefined : usageFactOf(event);
}

/** The model tokens one event adds to its run's usage. */
export interface RunTokens {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/**
 * The usage facts whose tokens are a run's own: its model calls. (A sub-agent's tokens stay the
 * child run's own.) What `runTokensOf` keeps of an event and `runUsage` sums of the entries.
 */
const RUN_TOKENS_KIND: UsageKind = "model";

/**
 * What `event` adds to its run's token usage: the tokens of every model call the run made, its
 * steps' (`model.completed`) and its compactions' summaries (`context.compacted` with a model's
 * usage, and `context.summary_discarded`: a summary call whose summary was not committed),
 * every attempt counted; a sub-agent's tokens stay the child run's own. The one rule
 * for a run's usage: a sub-agent's reply (`runUsage`, the same facts summed from the run's
 * entries), AG-UI's `RUN_FINISHED.usage` and the UI stream's `finish` metadata all add up these.
 */
export function runTokensOf(event: LedgerEvent): RunTokens | undefined {
  const fact = usageFactOf(event);
  return fact?.kind === RUN_TOKENS_KIND
    ? { inputTokens: fact.inputTokens, outputTokens: fact.outputTokens }
    : undefined;
}

/** A usage fact with its place in the ledger. */
export interface UsageEntry extends UsageFact {
  /** The seq of the event that carried it. */
  readonly seq: number;
  readonly runId: string | null;
  /** Epoch ms of the event. */
  readonly ts: number;
}

/**
 * One row per usage fact this session spent (`spentUsageOf`: none for copied history), so
 * entries can be read by kind, run and step without reading the ledger. The table has no index but its seq: it takes ~2 rows per step, and a run's entries
 * are read (`runUsage`, a filter by run) as the range of seqs from the run's start (one active
 * run per session, so the range holds that run's entries and the session's metrics beside
 * them), which costs what an index on the run would without a second B-tree to write per row.
 */
export const usageEntriesProjection: Projection = {
  name: "usage_entries",
  version: 1,
  create: [
    "CREATE TABLE usage_entries (seq INTEGER PRIMARY KEY, run_id TEXT, step INTEGER, kind TEXT NOT NULL, name TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cached_input_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL, value REAL NOT NULL, ts INTEGER NOT NULL)",
  ],
  drop: ["DROP TABLE IF EXISTS usage_entries"],
  migrations: [
    {
      version: 1,
      name: "no usage_entries_by_run (reads by run take the run's range of seqs)",
      up: ["DROP INDEX IF EXISTS usage_entries_by_run"],
    },
  ],
  apply(sql, event, copied) {
    const fact = spentUsageOf(event, copied);
    if (!fact) return;
    sql.exec(
      "INSERT INTO usage_entries (seq, run_id, step, kind, name, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, value, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      event.seq,
      event.runId,
      fact.step,
      fact.kind,
      fact.name,
      fact.inputTokens,
      fact.outputTokens,
      fact.cachedInputTokens,
      fact.reasoningTokens,
      fact.value,
      event.ts,
    );
  },
};

/** The most entries one page returns. */
export const MAX_USAGE_ENTRIES_PAGE = 1_000;

/** A non-negative integer. */
const count = () => z.number().check(z.int(), z.nonnegative());

/** Filters of `usageEntries`: all optional; steps are inclusive; entries come oldest first. */
export const usageEntriesQuery = z
  .strictObject({
    /** Only this run's entries. */
    runId: z.optional(text(1, 200)),
    /** Only these kinds (any of them). */
    kinds: z.optional(z.array(usageKind).check(z.minLength(1), z.maxLength(4))),
    /** First step, inclusive. A step filter leaves out metrics, which have no step. */
    fromStep: z.optional(count()),
    /** Last step, inclusive. */
    toStep: z.optional(count()),
    /** 1-1000, default 100. */
    limit: z.optional(z.number().check(z.int(), z.gte(1), z.lte(MAX_USAGE_ENTRIES_PAGE))),
    /** Entries to skip (of those that match), default 0. */
    offset: z.optional(count()),
  })
  .check(
    z.refine((q) => q.fromStep === undefined || q.toStep === undefined || q.fromStep <= q.toStep, {
      message: "fromStep must not be after toStep",
    }),
  );
export type UsageEntriesQuery = z.infer<typeof usageEntriesQuery>;

/** A page of usage entries; `nextOffset` is the `offset` of the next page, null after the last. */
export interface UsageEntriesPage {
  readonly entries: UsageEntry[];
  readonly nextOffset: number | null;
}

interface EntryRow {
  seq: number;
  run_id: string | null;
  step: number | null;
  kind: UsageKind;
  name: string;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  reasoning_tokens: number;
  value: number;
  ts: number;
}

/** The session's usage entries that match `query` (already validated), in ledger order. */
export function listUsageEntries(sql: SqlPort, query: UsageEntriesQuery): UsageEntriesPage {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.runId !== undefined) {
    // The run's entries come after its start: a range of the rowid, not a scan.
    where.push("seq >= coalesce((SELECT started_seq FROM runs WHERE run_id = ?), 0)", "run_id = ?");
    params.push(query.runId, query.runId);
  }
  if (query.kinds !== undefined) {
    where.push(`kind IN (${query.kinds.map(() => "?").join(", ")})`);
    params.push(...query.kinds);
  }
  if (query.fromStep !== undefined) {
    where.push("step >= ?");
    params.push(query.fromStep);
  }
  if (query.toStep !== undefined) {
    where.push("step <= ?");
    params.push(query.toStep);
  }
  const limit = query.limit ?? 100;
  const offset = query.offset ?? 0;
  const rows = sql.exec<EntryRow>(
    `SELECT * FROM usage_entries${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY seq LIMIT ? OFFSET ?`,
    ...params,
    limit + 1,
    offset,
  );
  const entries = rows.slice(0, limit).map((r) => ({
    seq: r.seq,
    runId: r.run_id,
    step: r.step,
    kind: r.kind,
    name: r.name,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    cachedInputTokens: r.cached_input_tokens,
    reasoningTokens: r.reasoning_tokens,
    value: r.value,
    ts: r.ts,
  }));
  return { entries, nextOffset: rows.length > limit ? offset + limit : null };
}

/**
 * The model tokens one run used (all its steps, attempts and compaction summaries): what a
 * sub-agent's reply reports. The sum of `runTokensOf` over the run's events, read from its
 * entries (each one `usageFactOf` of an event), once per run's end: the entries from the run's
 * start (`startedSeq`, the seq of its `run.started`) on, a range of the rowid.
 */
export function runUsage(sql: SqlPort, run: { runId: string; startedSeq: number }): RunTokens {
  const row = sql.exec<{ input_tokens: number; output_tokens: number }>(
    "SELECT coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens FROM usage_entries WHERE seq >= ? AND run_id = ? AND kind = ?",
    run.startedSeq,
    run.runId,
    RUN_TOKENS_KIND,
  )[0];
  return { inputTokens: row?.input_tokens ?? 0, outputTokens: row?.output_tokens ?? 0 };
}
