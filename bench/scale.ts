/**
 * `npm run bench -- scale`: N concurrent sessions, one quickstart-sized run each (a tool
 * call and an answer: two model calls), against `wrangler dev` (bench/scale/worker.ts),
 * with the D1 index off and on, compared in the same run; then the index with 200 ms added
 * to every D1 batch (the `faults` hook before each write), against the index on.
 *
 * Per row: runs/s (runs ÷ the time from the first start to the last completion), run
 * latency p50/p99 (start request sent → the run's completion hook fired, same machine
 * clock), server CPU per run (the workerd processes' user+system CPU from /proc over the
 * scenario, index deliveries included, ÷ runs), D1 statements per run and the index lag
 * (how long a batch's oldest message waited, p50/p99; "caught up" = last batch landed −
 * last run completed). At the end: the local D1 file's bytes per indexed run (every run
 * here is its own session: a session row and two usage entries).
 *
 * Sessions per row: `--sessions 1,10,50` or BENCH_SCALE_SESSIONS (default
 * 1,10,50,200,500). Rows with fewer than BENCH_MIN_RUNS (default 20) sessions repeat with
 * fresh sessions until they have that many runs. BENCH_SLOW_SESSIONS (default 10): the
 * sessions of the slow-D1 comparison.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { applyIndexMigrations } from "../scripts/index-migrations.mjs";
import { startWranglerDev } from "../test/support/wrangler-dev.ts";
import { percentile } from "./streams-load.ts";
import { cpuMs, workerdPids } from "./worker-socket.ts";

const arg = process.argv.indexOf("--sessions");
const SESSIONS = (
  (arg >= 0 ? process.argv[arg + 1] : undefined) ??
  process.env.BENCH_SCALE_SESSIONS ??
  "1,10,50,200,500"
)
  .split(",")
  .map(Number);
const MIN_RUNS = Number(process.env.BENCH_MIN_RUNS ?? 20);
const SLOW_SESSIONS = Number(process.env.BENCH_SLOW_SESSIONS ?? 10);

type Mode = "off" | "on" | "slow";

interface Stats {
  completed: { session: string; at: number }[];
  delivered: { session: string; statements: number; lagMs: number; at: number }[];
}

interface Row {
  mode: Mode;
  sessions: number;
  runs: number;
  runsPerSecond: number;
  latencies: number[];
  cpuPerRun: number;
  statementsPerRun: number;
  lags: number[];
  caughtUpMs: number | null;
}

const state = mkdtempSync(join(tmpdir(), "bench-scale-"));
const cwd = join(import.meta.dirname, "scale");
applyIndexMigrations({ cwd, args: ["--persist-to", state] });
const dev = await startWranglerDev({ cwd, persistTo: state, snapshot: true });
const serverCpu = () => workerdPids(dev.pid).reduce((sum, pid) => sum + cpuMs(pid), 0);
let counter = 0;

async function stats(reset = false): Promise<Stats> {
  const response = await fetch(`${dev.baseUrl}/__stats`, { method: reset ? "DELETE" : "GET" });
  return (await response.json()) as Stats;
}

/** One round: `n` fresh sessions start a run at once; resolves when every run completed. */
async function round(mode: Mode, n: number, started: Map<string, number>): Promise<void> {
  const names = Array.from({ length: n }, () => `${mode}-${n}-${++counter}-${Date.now()}`);
  await Promise.all(
    names.map(async (name) => {
      started.set(name, Date.now());
      const response = await fetch(`${dev.baseUrl}/${mode}/agents/scale/${name}/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: { message: "What is 2+3?" } }),
      });
      if (response.status !== 202)
        throw new Error(`start ${name}: ${response.status} ${await response.text()}`);
    }),
  );
  const wanted = new Set(names);
  const deadline = Date.now() + 300_000;
  for (;;) {
    const done = (await stats()).completed.filter((c) => wanted.has(c.session)).length;
    if (done >= n) return;
    if (Date.now() > deadline) throw new Error(`${mode} × ${n}: only ${done} runs completed`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function scenario(mode: Mode, sessions: number): Promise<Row> {
  await stats(true);
  const started = new Map<string, number>();
  const rounds = Math.max(1, Math.ceil(MIN_RUNS / sessions));
  const cpuBefore = serverCpu();
  const t0 = Date.now();
  for (let i = 0; i < rounds; i++) await round(mode, sessions, started);
  // The index is caught up when every session's last batch (its run's end) has landed.
  let s = await stats();
  if (mode !== "off") {
    const deadline = Date.now() + 120_000;
    const landed = () => new Set(s.delivered.map((d) => d.session)).size;
    while (landed() < started.size && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      s = await stats();
    }
    // Let batches in flight land (a session may deliver more than once).
    await new Promise((r) => setTimeout(r, 500));
    s = await stats();
  }
  const cpu = serverCpu() - cpuBefore;
  const runs = started.size;
  const lastCompletion = Math.max(...s.completed.map((c) => c.at));
  const lastDelivery = s.delivered.length ? Math.max(...s.delivered.map((d) => d.at)) : null;
  return {
    mode,
    sessions,
    runs,
    runsPerSecond: runs / ((lastCompletion - t0) / 1000),
    latencies: s.completed.map((c) => c.at - (started.get(c.session) ?? c.at)),
    cpuPerRun: cpu / runs,
    statementsPerRun: s.delivered.reduce((sum, d) => sum + d.statements, 0) / runs,
    lags: s.delivered.map((d) => d.lagMs),
    caughtUpMs: lastDelivery === null ? null : Math.max(0, lastDelivery - lastCompletion),
  };
}

function table(rows: Row[]): string {
  const lines = [
    [
      "index",
      "sessions",
      "runs",
      "runs/s",
      "run p50 / p99 (ms)",
      "server CPU per run (ms)",
      "D1 statements per run",
      "index lag p50 / p99 (ms)",
      "caught up after (ms)",
    ],
  ];
  const label = { off: "off", on: "on", slow: "on, D1 +200 ms" } as const;
  for (const r of rows)
    lines.push([
      label[r.mode],
      String(r.sessions),
      String(r.runs),
      r.runsPerSecond.toFixed(1),
      `${percentile(r.latencies, 50).toFixed(0)} / ${percentile(r.latencies, 99).toFixed(0)}`,
      r.cpuPerRun.toFixed(1),
      r.mode === "off" ? "-" : r.statementsPerRun.toFixed(1),
      r.lags.length
        ? `${percentile(r.lags, 50).toFixed(0)} / ${percentile(r.lags, 99).toFixed(0)}`
        : "-",
      r.caughtUpMs === null ? "-" : String(r.caughtUpMs),
    ]);
  const widths = (lines[0] ?? []).map((_, i) => Math.max(...lines.map((l) => (l[i] ?? "").length)));
  const line = (l: string[]) => `| ${l.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [
    line(lines[0] ?? []),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...lines.slice(1).map(line),
  ].join("\n");
}

try {
  // Warm up: the first objects of each class pay for compiling and the first D1 open.
  for (const mode of ["off", "on", "slow"] as const) await scenario(mode, 2);
  const rows: Row[] = [];
  for (const n of SESSIONS)
    for (const mode of ["off", "on"] as const) {
      rows.push(await scenario(mode, n));
      console.error(`done: index ${mode}, ${n} sessions`);
    }
  const slow = [await scenario("on", SLOW_SESSIONS), await scenario("slow", SLOW_SESSIONS)];
  console.log(
    `scale: ${cpus().length} vCPU ${cpus()[0]?.model ?? ""}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, wrangler dev (local workerd, local D1), load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}\n`,
  );
  console.log(table(rows));
  console.log(`\nA slow D1 (200 ms added to every batch), ${SLOW_SESSIONS} sessions:\n`);
  console.log(table(slow));
  await dev.stop();
  console.log(`\n${indexBytes()}`);
} finally {
  await dev.stop();
  rmSync(state, { recursive: true, force: true });
}

/** The local D1 database's size per indexed session (one run each), read with node:sqlite. */
function indexBytes(): string {
  const dir = join(state, "v3", "d1", "miniflare-D1DatabaseObject");
  const file = readdirSync(dir).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  if (!file) return "D1 bytes per run: no local D1 file found";
  const db = new DatabaseSync(join(dir, file));
  try {
    db.exec("VACUUM");
    const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    const bytes = one(
      "SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()",
    );
    const sessions = one("SELECT count(*) AS n FROM da_sessions");
    const usage = one("SELECT count(*) AS n FROM da_usage");
    return `D1 index: ${bytes} bytes for ${sessions} sessions of one run each (${usage} usage entries): ${(bytes / sessions).toFixed(0)} bytes per run; 10 GB holds ${(10e9 / (bytes / sessions) / 1e6).toFixed(1)} M such runs`;
  } finally {
    db.close();
  }
}
