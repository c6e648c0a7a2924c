/**
 * `npm run bench -- history`: how many bytes a session's SQLite holds per ledger event and
 * per run, for the capacity model in docs/scale.md (10 GB per Durable Object). One session
 * runs RUNS quickstart-sized runs (a user message, a tool call, an answer: two model calls)
 * in the core runtime over node:sqlite, the same SQLite schema a Durable Object gets, with
 * every projection (messages, runs, usage, checkpoints, the D1 index's outbox) as in
 * production. Size = page_count × page_size after VACUUM (free pages excluded).
 * Measured at RUNS/10 and RUNS, so growth per run is seen to be linear; with a short
 * final answer and with a 1 KiB one.
 * Env: BENCH_RUNS (default 1000).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { defineAgent, scriptedModel } from "@durable-agents/core";
import { createTestSession, ManualClock, NodeSqlPort } from "@durable-agents/core/testing";
import { addTool } from "./fixtures/add-tool.ts";
import { benchRunId } from "./step-cost/run-ids.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 1000);

/** An agent whose final answer is `answer`; coalescing as in production (1 KiB per delta). */
const agentAnswering = (answer: string) =>
  defineAgent({
    name: "history",
    system: "You are a benchmark.",
    tools: [addTool],
    model: scriptedModel({
      chunkSize: 16,
      rules: [
        ({ turn }) =>
          turn === 0
            ? { text: "Let me add that.", toolCalls: [{ name: "add", args: { a: 2, b: 3 } }] }
            : { text: answer },
      ],
    }),
  });

const ANSWERS = {
  "short answer (58 B)": "2 + 3 is 5. Anything else you would like me to work out?",
  "1 KiB answer": "The sum of 2 and 3 is 5. ".repeat(41).slice(0, 1024),
};

function measure(sql: NodeSqlPort) {
  sql.db.exec("VACUUM");
  const bytes =
    sql.exec<{ n: number }>(
      "SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()",
    )[0]?.n ?? 0;
  const events = sql.exec<{ n: number }>("SELECT count(*) AS n FROM events")[0]?.n ?? 0;
  const ledger = sql.exec<{ n: number }>("SELECT sum(length(data)) AS n FROM events")[0]?.n ?? 0;
  return { bytes, events, ledgerJson: ledger };
}

const dir = mkdtempSync(join(tmpdir(), "bench-history-"));
try {
  console.log(`history: ${cpus()[0]?.model ?? ""}, Node ${process.version}, node:sqlite\n`);
  console.log(
    "| answer | runs | events | SQLite bytes | bytes per event | bytes per run | ledger JSON per event |",
  );
  console.log(
    "| ------ | ---- | ------ | ------------ | --------------- | ------------- | --------------------- |",
  );
  for (const [label, answer] of Object.entries(ANSWERS)) {
    const sql = new NodeSqlPort(join(dir, `${label.length}.sqlite`));
    sql.db.exec("PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF");
    const session = createTestSession(
      agentAnswering(answer),
      { newId: benchRunId },
      { sql, clock: new ManualClock() },
    );
    for (let run = 1; run <= RUNS; run++) {
      await session.runtime.start({ message: `What is 2+3? (question ${run})` });
      await session.drain();
      if (session.runtime.status().status !== "completed")
        throw new Error("a run did not complete");
      if (run !== Math.round(RUNS / 10) && run !== RUNS) continue;
      const r = measure(sql);
      console.log(
        `| ${label} | ${run} | ${r.events} | ${r.bytes} | ${(r.bytes / r.events).toFixed(0)} | ${(r.bytes / run).toFixed(0)} | ${(r.ledgerJson / r.events).toFixed(0)} |`,
      );
    }
    sql.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
