/**
 * `npm run bench -- step-cost`: time per step with 10, 1,000 and 10,000 messages of
 * history (scripted model, no delay), in Node (node:sqlite, the core runtime as a
 * Durable Object would drive it) and over HTTP against the quickstart under
 * `wrangler dev`. Cost per step must not grow with history, so the ratio should be ~1.
 *
 * Each sample measures one run of STEPS steps on a session that already holds H
 * messages. In Node every sample starts from a copy of the same prepared database,
 * on a warm object (a one-step run and a two-step tool run already served: WARM_TOOL_RUN),
 * so only the step itself is timed; the SQL statements the runtime runs are counted over the
 * same run. Also printed: the same
 * scripted model read by a bare loop (no ledger), and the cost of one `model.delta` append
 * at the start and at the end of a 2,000-delta answer against a bare SQLite insert. Also
 * counted: durability waits (`durable()`, DO: `storage.sync()`) per step, and timed on its
 * own: the woken object's prompt load (a fresh connection's first `MessageCache.prompt`).
 * The same figures again for the agent with context compaction (BENCH_CONTEXT: keep 40
 * messages, compact after 200, the default summarizer on the scripted model), in the same run
 * and alternated with the others, and what a compacting run costs over one that does not.
 * Then the two executors side by side (step-cost/executors.ts): the same agent on the alarm
 * and on the Workflow executor under one `wrangler dev`, time per step of an N-step run.
 * `--no-http` skips the wrangler parts; `--executors` runs only the executors' comparison;
 * `--profile` prints only a CPU profile of steps (bench/step-cost/profile.ts); `--attribute`
 * only where a step's CPU time goes without a profiler (bench/step-cost/attribute.ts).
 * Also printed: the statements of a step, by statement (bench/step-cost/breakdown.ts), and
 * a second peer, the AI SDK's own agent loop on the same model (bench/step-cost/peers.ts).
 * Env: BENCH_HISTORIES (e.g. "10,1000"), BENCH_SAMPLES, BENCH_HTTP_SAMPLES, BENCH_EXEC_STEPS
 * (default 20), BENCH_EXEC_SAMPLES (default 8).
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import type { AgentDefinition } from "@durable-agents/core";
import { Ledger, SESSION_PROJECTIONS, type SqlValue } from "@durable-agents/core";
import { createTestSession, ManualClock, NodeSqlPort } from "@durable-agents/core/testing";
import { MessageCache } from "../packages/core/src/agent/message-cache.ts";
import { startWranglerDev } from "../test/support/wrangler-dev.ts";
import {
  benchAgent as agent,
  BENCH_CONTEXT,
  benchCompactedAgent,
  STEPS,
  WARM_TOOL_RUN,
} from "./step-cost/agent.ts";
import { attributeSteps } from "./step-cost/attribute.ts";
import { formatBreakdown, statementBreakdown } from "./step-cost/breakdown.ts";
import { executorBench } from "./step-cost/executors.ts";
import { httpRun, median } from "./step-cost/http.ts";
import { aiSdkStep, bareStep } from "./step-cost/peers.ts";
import { profileSteps } from "./step-cost/profile.ts";
import { benchRunId, RUN_IDS } from "./step-cost/run-ids.ts";

const HISTORIES = (process.env.BENCH_HISTORIES ?? "10,1000,10000").split(",").map(Number);
/** Over HTTP a history is built one run at a time (~50 ms each): up to 1,000 messages. */
const HTTP_HISTORIES = HISTORIES.filter((h) => h <= 1_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 31);
const HTTP_SAMPLES = Number(process.env.BENCH_HTTP_SAMPLES ?? 8);
/** The executors' comparison: runs of EXEC_STEPS steps, median of EXEC_SAMPLES per executor. */
const EXEC_STEPS = Number(process.env.BENCH_EXEC_STEPS ?? 20);
const EXEC_SAMPLES = Number(process.env.BENCH_EXEC_SAMPLES ?? 8);

async function runOnce(session: ReturnType<typeof createTestSession>, message: string) {
  await session.runtime.start({ message });
  await session.drain();
  const status = session.runtime.status().status;
  if (status !== "completed") throw new Error(`bench run ended ${status}`);
}

const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;

/**
 * The port, counting the statements the runtime runs (`exec` calls; transactions are not SQL)
 * and the commits a Durable Object's SQLite would make for them. workerd (src/workerd/io/
 * actor-sqlite.c++) commits each outermost `transactionSync` on its own (first committing any
 * implicit transaction that is open), and gathers writes made outside one into an implicit
 * transaction committed on the event loop's next turn (`kj::evalLater`, after the microtasks):
 * modelled here as one commit per `setImmediate` turn.
 */
class CountingSqlPort extends NodeSqlPort {
  statements = 0;
  commits = 0;
  #depth = 0;
  #implicitOpen = false;
  override exec<T extends object>(query: string, ...params: SqlValue[]): T[] {
    this.statements++;
    if (this.#depth === 0 && !this.#implicitOpen && WRITE.test(query)) {
      this.commits++;
      this.#implicitOpen = true;
      setImmediate(() => {
        this.#implicitOpen = false;
      });
    }
    return super.exec<T>(query, ...params);
  }
  override transaction<T>(fn: () => T): T {
    if (this.#depth === 0) {
      this.commits++;
      this.#implicitOpen = false;
    }
    this.#depth++;
    try {
      return super.transaction(fn);
    } finally {
      this.#depth--;
    }
  }
}

/** A file database without fsync per commit: DO SQLite does not fsync per transaction either. */
function openFast(file: string): CountingSqlPort {
  const sql = new CountingSqlPort(file);
  sql.db.exec("PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF");
  return sql;
}

/** A prepared history: its database file, and (compacted) the runs that compacted and not. */
interface Prepared {
  readonly file: string;
  readonly agent: AgentDefinition;
  /** Median ms of a one-step run that compacted first, and of one that did not (compacted only). */
  readonly compactingRunMs?: number;
  readonly plainRunMs?: number;
  readonly compactions?: number;
}

/** A database file holding `history` messages (one-step runs of user + assistant). */
async function prepare(dir: string, history: number, on: AgentDefinition): Promise<Prepared> {
  const file = join(dir, `history-${history}-${on.name}.sqlite`);
  const sql = openFast(file);
  const session = createTestSession(on, { newId: benchRunId }, { sql, clock: new ManualClock() });
  const compacting: number[] = [];
  const plain: number[] = [];
  const compactions = () =>
    sql.exec<{ n: number }>("SELECT count(*) AS n FROM compactions")[0]?.n ?? 0;
  for (let i = 0; i < history / 2; i++) {
    const before = on.context ? compactions() : 0;
    const t = performance.now();
    await runOnce(session, `hello ${i}`);
    const ms = performance.now() - t;
    if (on.context) (compactions() > before ? compacting : plain).push(ms);
  }
  const made = on.context ? compactions() : undefined;
  sql.close();
  if (!on.context) return { file, agent: on };
  return {
    file,
    agent: on,
    compactions: made,
    ...(compacting.length > 0 ? { compactingRunMs: median(compacting) } : {}),
    ...(plain.length > 0 ? { plainRunMs: median(plain) } : {}),
  };
}

interface Sample {
  perStepMs: number;
  /** CPU time of this process per step (user + system, `process.cpuUsage`): less moved by load. */
  cpuPerStepMs: number;
  coldRunMs: number;
  promptLoadMs: number;
  statementsPerStep: number;
  commitsPerStep: number;
  syncsPerStep: number;
}

/** The first prompt of an object opened on `file` (cold SQLite cache, as after a wake). */
function promptLoad(file: string, on: AgentDefinition): number {
  const sql = new NodeSqlPort(file);
  const tail = sql.exec<{ n: number | null }>("SELECT max(seq) AS n FROM events")[0]?.n ?? 0;
  const t = performance.now();
  new MessageCache(sql, { compacted: on.context !== undefined }).prompt(on.system, tail);
  const ms = performance.now() - t;
  sql.close();
  return ms;
}

async function nodeSample(base: Prepared, dir: string, i: number): Promise<Sample> {
  const file = join(dir, `sample-${i}.sqlite`);
  copyFileSync(base.file, file);
  const on = base.agent;
  const promptLoadMs = promptLoad(file, on);
  const sql = openFast(file);
  let syncs = 0;
  const durable = async () => {
    syncs++;
  };
  const session = createTestSession(
    on,
    { newId: benchRunId, durable },
    { sql, clock: new ManualClock() },
  );
  let t = performance.now();
  await runOnce(session, "warm up");
  const coldRunMs = performance.now() - t;
  await runOnce(session, WARM_TOOL_RUN);
  const before = sql.statements;
  const commitsBefore = sql.commits;
  const syncsBefore = syncs;
  t = performance.now();
  const cpu = process.cpuUsage();
  await runOnce(session, "work");
  const perStepMs = (performance.now() - t) / STEPS;
  const spent = process.cpuUsage(cpu);
  const cpuPerStepMs = (spent.user + spent.system) / 1000 / STEPS;
  const statementsPerStep = (sql.statements - before) / STEPS;
  const commitsPerStep = (sql.commits - commitsBefore) / STEPS;
  const syncsPerStep = (syncs - syncsBefore) / STEPS;
  sql.close();
  rmSync(file, { force: true });
  return {
    perStepMs,
    cpuPerStepMs,
    coldRunMs,
    promptLoadMs,
    statementsPerStep,
    commitsPerStep,
    syncsPerStep,
  };
}

/**
 * Samples alternate between the histories and the two agents (every message sent; compacted),
 * so load from other processes hits all alike. The first HISTORIES.length results are the
 * uncompacted agent's, then the compacted agent's.
 */
async function nodeBench(dir: string) {
  const bases: Prepared[] = [];
  for (const on of [agent, benchCompactedAgent])
    for (const h of HISTORIES) bases.push(await prepare(dir, h, on));
  for (const base of bases) await nodeSample(base, dir, -1); // JIT warm-up
  const samples: Sample[][] = bases.map(() => []);
  for (let i = 0; i < SAMPLES; i++)
    for (const [k, base] of bases.entries()) samples[k]?.push(await nodeSample(base, dir, i));
  return samples.map((list, k) => ({
    base: bases[k] as Prepared,
    perStep: median(list.map((s) => s.perStepMs)),
    cpuPerStep: median(list.map((s) => s.cpuPerStepMs)),
    coldRun: median(list.map((s) => s.coldRunMs)),
    promptLoad: median(list.map((s) => s.promptLoadMs)),
    statements: median(list.map((s) => s.statementsPerStep)),
    commits: median(list.map((s) => s.commitsPerStep)),
    syncs: median(list.map((s) => s.syncsPerStep)),
  }));
}

// ---- one model.delta append, at the start and at the end of a 2,000-delta answer ----

const DELTAS = 2_000;
const EDGE = 100;

interface AppendCost {
  readonly start: number;
  readonly end: number;
}

/** µs per append of the first and the last EDGE deltas (medians), on a fresh file database. */
function deltaAppendCost(dir: string, projections: boolean): AppendCost {
  const file = join(dir, `deltas-${projections}.sqlite`);
  const sql = openFast(file);
  const ledger = new Ledger(sql, new ManualClock(), projections ? SESSION_PROJECTIONS : []);
  const runId = "run_deltas";
  ledger.append([
    { kind: "run.started", runId, data: { agent: "bench", input: { message: "hi" } } },
    { kind: "step.started", runId, data: { step: 1, attempt: 1 } },
  ]);
  const times: number[] = [];
  for (let i = 0; i < DELTAS; i++) {
    const t = performance.now();
    ledger.append([{ kind: "model.delta", runId, data: { step: 1, text: "tokens. " } }]);
    times.push((performance.now() - t) * 1000);
  }
  sql.close();
  rmSync(file, { force: true });
  return { start: median(times.slice(0, EDGE)), end: median(times.slice(-EDGE)) };
}

/**
 * The same inserts, straight into SQLite (one prepared statement): each one committing on its
 * own (autocommit), or all inside one open transaction (`uncommitted`), so the difference is
 * what a commit costs.
 */
function bareInsertCost(dir: string, uncommitted = false): AppendCost {
  const file = join(dir, "bare.sqlite");
  const sql = openFast(file);
  sql.db.exec("CREATE TABLE events (seq INTEGER PRIMARY KEY, kind TEXT, data TEXT, ts INTEGER)");
  const insert = sql.db.prepare("INSERT INTO events (seq, kind, data, ts) VALUES (?, ?, ?, ?)");
  const times: number[] = [];
  if (uncommitted) sql.db.exec("BEGIN");
  for (let i = 1; i <= DELTAS; i++) {
    const t = performance.now();
    insert.run(i, "model.delta", JSON.stringify({ step: 1, text: "tokens. " }), Date.now());
    times.push((performance.now() - t) * 1000);
  }
  if (uncommitted) sql.db.exec("COMMIT");
  sql.close();
  rmSync(file, { force: true });
  return { start: median(times.slice(0, EDGE)), end: median(times.slice(-EDGE)) };
}

/** Medians over five answers of each kind, interleaved. */
function appendBench(dir: string) {
  const runs = {
    full: [] as AppendCost[],
    ledger: [] as AppendCost[],
    bare: [] as AppendCost[],
    uncommitted: [] as AppendCost[],
  };
  deltaAppendCost(dir, true); // warm-up
  for (let i = 0; i < 5; i++) {
    runs.full.push(deltaAppendCost(dir, true));
    runs.ledger.push(deltaAppendCost(dir, false));
    runs.bare.push(bareInsertCost(dir));
    runs.uncommitted.push(bareInsertCost(dir, true));
  }
  const med = (list: AppendCost[]): AppendCost => ({
    start: median(list.map((c) => c.start)),
    end: median(list.map((c) => c.end)),
  });
  return {
    full: med(runs.full),
    ledger: med(runs.ledger),
    bare: med(runs.bare),
    uncommitted: med(runs.uncommitted),
  };
}

// ---- over HTTP: the quickstart agent under wrangler dev ----

/** Both sessions are prepared first (which also warms workerd); samples then alternate. */
async function httpBench(baseUrl: string, tag: string): Promise<number[]> {
  // "What is 2+3?" is two steps in the quickstart (calculator call, then the answer).
  const steps = 2;
  const sessions = HTTP_HISTORIES.map((h) => `${baseUrl}/agents/assistant/bench-${tag}-${h}`);
  for (const [i, session] of sessions.entries()) {
    for (let j = 0; j < (HTTP_HISTORIES[i] ?? 0) / 2; j++) await httpRun(session, `hello ${j}`);
    await httpRun(session, "What is 1+1?");
  }
  const perStep: number[][] = sessions.map(() => []);
  for (let i = 0; i < HTTP_SAMPLES; i++) {
    for (const [k, session] of sessions.entries()) {
      const t = performance.now();
      await httpRun(session, "What is 2+3?");
      perStep[k]?.push((performance.now() - t) / steps);
    }
  }
  return perStep.map(median);
}

const fmt = (ms: number) => ms.toFixed(3);

async function historyBench() {
  const dir = mkdtempSync(join(tmpdir(), "bench-step-cost-"));
  const rows: string[][] = [];
  const notes: string[] = [];
  try {
    const all = await nodeBench(dir);
    const results = all.slice(0, HISTORIES.length);
    const compacted = all.slice(HISTORIES.length);
    const first = results[0];
    type Result = (typeof all)[number];
    const cell = (f: (r: Result) => number, digits = 3, of = results) =>
      of.map((r) => f(r).toFixed(digits));
    const ratio = (f: (r: Result) => number, of = results) =>
      of[0] && f(of[0]) !== 0 ? (f(of.at(-1) ?? of[0]) / f(of[0])).toFixed(2) : "-";
    rows.push([
      "node:sqlite, time per step (ms)",
      ...cell((r) => r.perStep),
      ratio((r) => r.perStep),
    ]);
    rows.push([
      "  CPU time per step (ms, process.cpuUsage)",
      ...cell((r) => r.cpuPerStep),
      ratio((r) => r.cpuPerStep),
    ]);
    rows.push([
      "node:sqlite, first run after wake (ms)",
      ...cell((r) => r.coldRun),
      ratio((r) => r.coldRun),
    ]);
    rows.push([
      "  of which the prompt load (ms)",
      ...cell((r) => r.promptLoad),
      ratio((r) => r.promptLoad),
    ]);
    rows.push([
      "SQL statements per step",
      ...cell((r) => r.statements, 1),
      ratio((r) => r.statements),
    ]);
    rows.push([
      "  of them commits (as DO SQLite commits them)",
      ...cell((r) => r.commits, 1),
      ratio((r) => r.commits),
    ]);
    rows.push(["storage.sync() waits per step", ...cell((r) => r.syncs, 2), ratio((r) => r.syncs)]);
    const ctx = `keep ${BENCH_CONTEXT.keepMessages}, compact after ${BENCH_CONTEXT.compactAfterMessages}`;
    rows.push([
      `with compaction (${ctx}): time per step (ms)`,
      ...cell((r) => r.perStep, 3, compacted),
      ratio((r) => r.perStep, compacted),
    ]);
    rows.push([
      "  first run after wake (ms)",
      ...cell((r) => r.coldRun, 3, compacted),
      ratio((r) => r.coldRun, compacted),
    ]);
    rows.push([
      "  of which the prompt load (ms)",
      ...cell((r) => r.promptLoad, 3, compacted),
      ratio((r) => r.promptLoad, compacted),
    ]);
    rows.push([
      "  SQL statements per step",
      ...cell((r) => r.statements, 1, compacted),
      ratio((r) => r.statements, compacted),
    ]);
    for (const [k, r] of compacted.entries()) {
      const { compactions, compactingRunMs, plainRunMs } = r.base;
      if (compactingRunMs === undefined || plainRunMs === undefined) continue;
      notes.push(
        `compaction, history ${HISTORIES[k]?.toLocaleString("en")}: ${compactions} compactions while the history was written; a one-step run that compacted first took ${compactingRunMs.toFixed(3)} ms, one that did not ${plainRunMs.toFixed(3)} ms (medians; the summary is the scripted model's: a real model's call adds its own latency and tokens)`,
      );
    }
    const bare = await bareStep(SAMPLES);
    const sdk = await aiSdkStep(SAMPLES);
    if (first)
      notes.push(
        `durable step ÷ bare loop (history ${HISTORIES[0]}): ${first.perStep.toFixed(3)} ms ÷ ${bare.toFixed(3)} ms = ${(first.perStep / bare).toFixed(1)}×`,
        `durable step ÷ AI SDK loop (streamText, stopWhen; history ${HISTORIES[0]}): ${first.perStep.toFixed(3)} ms ÷ ${sdk.toFixed(3)} ms = ${(first.perStep / sdk).toFixed(1)}×`,
      );
    const append = appendBench(dir);
    const us = (v: number) => `${v.toFixed(1)} µs`;
    const rel = (v: number, base: number) => `${(v / base).toFixed(2)}×`;
    notes.push(
      `model.delta append, ${DELTAS}-delta answer, median of the first / last ${EDGE}:`,
      `  ledger + session projections: ${us(append.full.start)} / ${us(append.full.end)} (${rel(append.full.start, append.bare.start)} / ${rel(append.full.end, append.bare.end)} of bare)`,
      `  ledger alone:                 ${us(append.ledger.start)} / ${us(append.ledger.end)} (${rel(append.ledger.start, append.bare.start)} / ${rel(append.ledger.end, append.bare.end)} of bare)`,
      `  bare SQLite insert:           ${us(append.bare.start)} / ${us(append.bare.end)}`,
      `  the same insert, uncommitted: ${us(append.uncommitted.start)} / ${us(append.uncommitted.end)} (inside one open transaction)`,
    );
    if (first) {
      // What the step's commits alone cost, at what one commit costs here (a bare insert that
      // commits, less the same insert inside an open transaction).
      const commitUs = append.bare.end - append.uncommitted.end;
      const commitsMs = (first.commits * commitUs) / 1000;
      notes.push(
        `commits: one costs ${us(commitUs)} here; a step at history ${HISTORIES[0]} makes ${first.commits.toFixed(1)} (${commitsMs.toFixed(3)} ms, ${((commitsMs / first.perStep) * 100).toFixed(0)}% of the step), which alone is ${(commitsMs / bare).toFixed(1)}× the bare loop`,
      );
    }
    if (!process.argv.includes("--no-http")) {
      const state = join(dir, "wrangler");
      const dev = await startWranglerDev({
        cwd: join(import.meta.dirname, "..", "examples", "quickstart"),
        persistTo: state,
        vars: { SCRIPTED_DELAY_MS: "0" },
        env: { CLOUDFLARE_CF_FETCH_ENABLED: "false" },
      });
      try {
        const tag = Date.now().toString(36);
        const perStep = await httpBench(dev.baseUrl, tag);
        const a = perStep[0];
        const b = perStep.at(-1);
        if (a !== undefined && b !== undefined)
          rows.push([
            "wrangler dev over HTTP, time per step (ms)",
            ...HISTORIES.map((h) => {
              const at = HTTP_HISTORIES.indexOf(h);
              return at < 0 ? "-" : fmt(perStep[at] ?? Number.NaN);
            }),
            `${(b / a).toFixed(2)} (${HTTP_HISTORIES.at(-1)} / ${HTTP_HISTORIES[0]})`,
          ]);
      } finally {
        await dev.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const header = [
    "step cost",
    ...HISTORIES.map((h) => `history ${h.toLocaleString("en")}`),
    `ratio ${HISTORIES.at(-1)?.toLocaleString("en")} / ${HISTORIES[0]}`,
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const row of rows) console.log(line(row));
  console.log(`\n${notes.join("\n")}`);
  console.log(`\n${formatBreakdown(await statementBreakdown(HISTORIES[0]))}`);
  console.log(
    `\n${STEPS} steps per Node sample, median of ${SAMPLES}; HTTP: 2-step runs, median of ${HTTP_SAMPLES}. ` +
      machine(),
  );
}

const machine = () =>
  `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}; ${RUN_IDS} run ids.`;

/** The alarm and the Workflow executor side by side (bench/step-cost/executors.ts). */
async function executorsTable() {
  const { steps, samples, figures, workflowSteps } = await executorBench(EXEC_STEPS, EXEC_SAMPLES);
  const alarm = figures.find((f) => f.executor === "alarm");
  const rows = figures.map((f) => [
    `${f.executor} (${f.agent})`,
    fmt(f.perStepMs),
    f.runMs.toFixed(1),
    alarm ? `${(f.perStepMs / alarm.perStepMs).toFixed(2)}×` : "-",
  ]);
  const header = [
    "executor, wrangler dev",
    "time per step (ms)",
    `${steps}-step run (ms)`,
    "÷ alarm",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ");
  console.log(`\n${line(header)}`);
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const row of rows) console.log(line(row));
  const w = workflowSteps;
  console.log(
    `\nWorkflow runs, from their instances' step records (medians, ms): model step.do ${fmt(w.model)}, ` +
      `tool step.do ${fmt(w.tool)}, outside the steps (decide RPCs, the engine) ${fmt(w.outside)} per step.`,
  );
  console.log(
    `${steps}-step runs (${steps - 1} tool calls, then the answer), alternated, median of ${samples}. ${machine()}`,
  );
}

if (process.argv.includes("--attribute")) {
  // Prompt, SQL, model and GC pauses per step, by history (bench/step-cost/attribute.ts), then stop.
  console.log(`${await attributeSteps(HISTORIES, SAMPLES)}\n${machine()}`);
} else if (process.argv.includes("--profile")) {
  // Where a step's time goes, by group and function (bench/step-cost/profile.ts), then stop.
  for (const h of [HISTORIES[0] ?? 10, HISTORIES.at(-1) ?? 10])
    console.log(`${await profileSteps(h, Number(process.env.BENCH_PROFILE_SAMPLES ?? 31))}\n`);
  console.log(machine());
} else {
  if (!process.argv.includes("--executors")) await historyBench();
  if (!process.argv.includes("--no-http")) await executorsTable();
}
