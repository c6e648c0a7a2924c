/**
 * The per-step tables keep only the indexes a read needs (docs/benchmarks.md, "Statements per
 * step, fourth cut"): `usage_entries` has none but its seq (a run's entries are the range from
 * its start), and `messages` indexes only user rows by run (`messages_user_by_run`). What the
 * dropped indexes served still reads a range of the rowid, never the whole table, and a session
 * stored with the old indexes changes in place when it opens, its rows kept.
 */
import { describe, expect, it } from "vitest";
import { getRun, type RunRecord } from "../src/index.ts";
import type { NewEvent } from "../src/ledger/events.ts";
import { Ledger } from "../src/ledger/ledger.ts";
import { runUserMessages } from "../src/ledger/projections/message-reads.ts";
import { messagesProjection } from "../src/ledger/projections/messages.ts";
import { runsProjection } from "../src/ledger/projections/runs.ts";
import {
  listUsageEntries,
  runUsage,
  usageEntriesProjection,
} from "../src/ledger/projections/usage-entries.ts";
import { ManualClock } from "../src/testing/manual-clock.ts";
import { CountingSqlPort } from "./counting-sql.ts";

const usage = { inputTokens: 3, outputTokens: 2 };
const started = (runId: string, data: Partial<NewEvent<"run.started">["data"]> = {}): NewEvent => ({
  kind: "run.started",
  runId,
  data: { agent: "a", input: { message: `hello from ${runId}` }, ...data },
});
const step = (runId: string, n: number): NewEvent => ({
  kind: "step.started",
  runId,
  data: { step: n, attempt: 1 },
});
const delta = (runId: string, n: number, text: string): NewEvent => ({
  kind: "model.delta",
  runId,
  data: { step: n, text },
});
const completed = (runId: string, n: number, text: string, calls: string[] = []): NewEvent =>
  ({
    kind: "model.completed",
    runId,
    data: {
      step: n,
      text,
      toolCalls: calls.map((callId) => ({ callId, name: "t", args: {} })),
      finishReason: "stop",
      usage,
      model: "m",
    },
  }) as NewEvent;
const result = (runId: string, n: number, callId: string): NewEvent =>
  ({
    kind: "tool.completed",
    runId,
    data: { step: n, callId, name: "t", result: 1 },
  }) as NewEvent;
const ended = (runId: string): NewEvent =>
  ({ kind: "run.completed", runId, data: { output: "ok" } }) as NewEvent;

/** A run of two steps (a tool call, then an answer), ended. */
const twoSteps = (runId: string, start: Partial<NewEvent<"run.started">["data"]> = {}) => [
  started(runId, start),
  step(runId, 1),
  delta(runId, 1, "calling "),
  completed(runId, 1, "calling ", ["c1"]),
  result(runId, 1, "c1"),
  step(runId, 2),
  delta(runId, 2, "done"),
  completed(runId, 2, "done"),
  ended(runId),
];

const PROJECTIONS = [runsProjection, messagesProjection, usageEntriesProjection];

function open(sql = new CountingSqlPort()) {
  return { sql, ledger: new Ledger(sql, new ManualClock(), PROJECTIONS) };
}

const indexes = (sql: CountingSqlPort, table: string) =>
  sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name",
      table,
    )
    .map((r) => r.name);

const plan = (sql: CountingSqlPort, query: string, ...params: (string | number)[]) =>
  sql.exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${query}`, ...params).map((p) => p.detail);

const visible = (sql: CountingSqlPort, runId: string) =>
  sql
    .exec<{ id: string }>(
      "SELECT id FROM messages WHERE run_id = ? AND hidden = 0 ORDER BY idx",
      runId,
    )
    .map((r) => r.id);

describe("a regenerate or a rewind hides its run's rows from the run's first row on", () => {
  it("hides every row of the replaced run, the messages it was handed first among them", () => {
    const { sql, ledger } = open();
    ledger.append(twoSteps("r1"));
    // r2 was handed an earlier exchange that opens with the assistant's line: its first row is
    // that assistant message, before any user row of the run.
    ledger.append(
      twoSteps("r2", {
        input: {
          message: "and now?",
          messages: [
            { role: "assistant", content: "an earlier answer" },
            { role: "user", content: "an earlier question" },
          ],
        },
      }),
    );
    expect(visible(sql, "r2")).toHaveLength(6);
    ledger.append(twoSteps("r3", { replaces: "r2" }));
    expect(visible(sql, "r2")).toEqual([]);
    expect(visible(sql, "r1")).toHaveLength(4);
    expect(visible(sql, "r3")).toHaveLength(4);
  });

  it("hides what the run said after the checkpoint, and nothing of the other runs", () => {
    const { sql, ledger } = open();
    ledger.append(twoSteps("r1"));
    const [start] = ledger.append([started("r2")]);
    ledger.append(twoSteps("r2").slice(1, -1));
    const checkpoint = (start?.seq ?? 0) + 1; // after step 1's start, before its answer
    ledger.append([
      {
        kind: "run.resumed",
        runId: "r2",
        data: { mode: "from_checkpoint", checkpoint, message: "again" },
      } as NewEvent,
    ]);
    expect(visible(sql, "r2")).toEqual([`m${start?.seq}`, `m${ledger.tail}`]);
    expect(visible(sql, "r1")).toHaveLength(4);
  });

  it("searches the rowid from the run's first row (no scan of the conversation)", () => {
    const { sql, ledger } = open();
    for (let i = 1; i <= 3; i++) ledger.append(twoSteps(`r${i}`));
    ledger.append([started("r4", { replaces: "r3" })]);
    const hide = sql.statements.find((q) => q.startsWith("UPDATE messages SET hidden = 1"));
    expect(hide).toBeDefined();
    const details = plan(sql, hide as string, 99, "r3", "r3", "r3");
    expect(details).toContain("SEARCH messages USING INTEGER PRIMARY KEY (rowid>?)");
    expect(details.some((d) => /USING INDEX messages_user_by_run/.test(d))).toBe(true);
    expect(details.some((d) => /^SCAN messages\b/.test(d))).toBe(false);
  });
});

describe("a run's usage entries", () => {
  it("are the range from the run's start: the sum and a filtered page, without an index", () => {
    const { sql, ledger } = open();
    for (let i = 1; i <= 3; i++) ledger.append(twoSteps(`r${i}`));
    const run = getRun(sql, "r2") as RunRecord;
    expect(runUsage(sql, run)).toEqual({ inputTokens: 6, outputTokens: 4 });
    const page = listUsageEntries(sql, { runId: "r2" });
    expect(page.entries.map((e) => [e.runId, e.kind])).toEqual([
      ["r2", "model"],
      ["r2", "tool"],
      ["r2", "model"],
    ]);
    expect(indexes(sql, "usage_entries")).toEqual([]);
    sql.reset();
    runUsage(sql, run);
    listUsageEntries(sql, { runId: "r2" });
    const reads = [...sql.statements];
    expect(reads).toHaveLength(2);
    for (const query of reads) {
      const details = plan(
        sql,
        query,
        ...(query.includes("LIMIT") ? ["r2", "r2", 101, 0] : [run.startedSeq, "r2", "model"]),
      );
      expect(details).toContain("SEARCH usage_entries USING INTEGER PRIMARY KEY (rowid>?)");
    }
  });
});

describe("a session stored with the old indexes", () => {
  /** What main before this change left: `messages_by_run` on every row, `usage_entries_by_run`. */
  function storedByOldSchema(): CountingSqlPort {
    const { sql, ledger } = open();
    ledger.append(twoSteps("r1"));
    ledger.append(
      twoSteps("r2", {
        input: { message: "more", messages: [{ role: "assistant", content: "x" }] },
      }),
    );
    sql.exec("DROP INDEX messages_user_by_run");
    sql.exec("CREATE INDEX messages_by_run ON messages (run_id, role)");
    sql.exec("CREATE INDEX usage_entries_by_run ON usage_entries (run_id, step)");
    sql.exec("DELETE FROM schema_migrations WHERE set_name LIKE 'projection:%'");
    return sql;
  }

  it("changes in place when it opens: the new indexes, every row kept, nothing rebuilt", () => {
    const sql = storedByOldSchema();
    expect(indexes(sql, "messages")).toEqual(["messages_by_run", "messages_by_seq"]);
    const rows = (table: string) => sql.exec(`SELECT * FROM ${table} ORDER BY rowid`);
    const before = { messages: rows("messages"), usage: rows("usage_entries"), runs: rows("runs") };
    sql.reset();
    const { ledger } = open(sql);
    expect(sql.statements.some((q) => /^DROP TABLE/.test(q))).toBe(false);
    expect(indexes(sql, "messages")).toEqual(["messages_by_seq", "messages_user_by_run"]);
    expect(indexes(sql, "usage_entries")).toEqual([]);
    expect(rows("messages")).toEqual(before.messages);
    expect(rows("usage_entries")).toEqual(before.usage);
    expect(rows("runs")).toEqual(before.runs);
    // And it goes on: a regenerate hides the replaced run, its handed-in message too.
    ledger.append(twoSteps("r3", { replaces: "r2" }));
    expect(visible(sql, "r2")).toEqual([]);
    expect(runUserMessages(sql, "r3").map((m) => m.role)).toEqual(["user"]);
    // Opening again changes nothing more.
    sql.reset();
    open(sql);
    expect(sql.statements.filter((q) => /^(DROP|CREATE) /.test(q))).toEqual([
      expect.stringMatching(/^CREATE TABLE IF NOT EXISTS schema_migrations/),
      expect.stringMatching(/^CREATE TABLE IF NOT EXISTS schema_migrations/),
      expect.stringMatching(/^CREATE TABLE IF NOT EXISTS schema_migrations/),
    ]);
  });
});
