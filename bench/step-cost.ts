/**
 * `npm run bench -- step-cost`: time per step with 10 and with 1,000 messages of
 * history (scripted model, no delay), in Node (node:sqlite, the core runtime as a
 * Durable Object would drive it) and over HTTP against the quickstart under
 * `wrangler dev`. Cost per step must not grow with history, so the ratio should be ~1.
 *
 * Each sample measures one run of STEPS steps on a session that already holds H
 * messages. In Node every sample starts from a copy of the same prepared database,
 * on a warm object (one run already served), so only the step itself is timed.
 * `--no-http` skips the wrangler part.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { defineAgent, defineTool, scriptedModel } from "@durable-agents/core";
import { createTestSession, ManualClock, NodeSqlPort } from "@durable-agents/core/testing";
import * as z from "zod";
import { startWranglerDev } from "../test/support/wrangler-dev.ts";

const HISTORIES = [10, 1_000];
const STEPS = 6;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 31);
const HTTP_SAMPLES = Number(process.env.BENCH_HTTP_SAMPLES ?? 8);

const add = defineTool({
  name: "add",
  description: "Adds two numbers",
  input: z.object({ a: z.number(), b: z.number() }),
  effect: "pure",
  execute: ({ a, b }) => a + b,
});

/** "work": STEPS steps (STEPS-1 tool calls, then an answer). Anything else: one step. */
const agent = defineAgent({
  name: "bench",
  system: "You are a benchmark.",
  tools: [add],
  model: scriptedModel({
    chunkSize: 16,
    rules: [
      ({ userText, turn }) => {
        if (userText !== "work") return undefined;
        if (turn < STEPS - 1)
          return { text: `Step ${turn}. `, toolCalls: [{ name: "add", args: { a: turn, b: 1 } }] };
        return { text: "Done with the work, here is a short answer." };
      },
      () => ({ text: "A short reply of about the usual length for a chat turn." }),
    ],
  }),
});

const newId = () => `run_${crypto.randomUUID()}`;

async function runOnce(session: ReturnType<typeof createTestSession>, message: string) {
  await session.runtime.start({ message });
  await session.drain();
  const status = session.runtime.status().status;
  if (status !== "completed") throw new Error(`bench run ended ${status}`);
}

/** A file database without fsync per commit: DO SQLite does not fsync per transaction either. */
function openFast(file: string): NodeSqlPort {
  const sql = new NodeSqlPort(file);
  sql.db.exec("PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF");
  return sql;
}

/** A database file holding `history` messages (one-step runs of user + assistant). */
async function prepare(dir: string, history: number): Promise<string> {
  const file = join(dir, `history-${history}.sqlite`);
  const sql = openFast(file);
  const session = createTestSession(agent, { newId }, { sql, clock: new ManualClock() });
  for (let i = 0; i < history / 2; i++) await runOnce(session, `hello ${i}`);
  sql.close();
  return file;
}

interface Sample {
  perStepMs: number;
  coldRunMs: number;
}

async function nodeSample(base: string, dir: string, i: number): Promise<Sample> {
  const file = join(dir, `sample-${i}.sqlite`);
  copyFileSync(base, file);
  const sql = openFast(file);
  const session = createTestSession(agent, { newId }, { sql, clock: new ManualClock() });
  let t = performance.now();
  await runOnce(session, "warm up");
  const coldRunMs = performance.now() - t;
  t = performance.now();
  await runOnce(session, "work");
  const perStepMs = (performance.now() - t) / STEPS;
  sql.close();
  rmSync(file, { force: true });
  return { perStepMs, coldRunMs };
}

/** Samples alternate between the histories, so load from other processes hits both alike. */
async function nodeBench(dir: string) {
  const bases = [];
  for (const h of HISTORIES) bases.push(await prepare(dir, h));
  for (const base of bases) await nodeSample(base, dir, -1); // JIT warm-up
  const samples: Sample[][] = bases.map(() => []);
  for (let i = 0; i < SAMPLES; i++)
    for (const [k, base] of bases.entries()) samples[k]?.push(await nodeSample(base, dir, i));
  return samples.map((list) => ({
    perStep: median(list.map((s) => s.perStepMs)),
    coldRun: median(list.map((s) => s.coldRunMs)),
  }));
}

// ---- over HTTP: the quickstart agent under wrangler dev ----

async function post(url: string, body: unknown): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
}

/** Starts a run and waits (long-poll on the ledger) for its terminal event. */
async function httpRun(base: string, message: string): Promise<void> {
  const status = (await (await fetch(`${base}/status`)).json()) as { offset: string };
  await post(`${base}/runs`, { input: { message } });
  let offset = status.offset;
  for (;;) {
    const response = await fetch(`${base}/events?offset=${offset}&live=long-poll`);
    const next = response.headers.get("stream-next-offset");
    const events = response.status === 204 ? [] : ((await response.json()) as { kind: string }[]);
    if (events.some((e) => /^run\.(completed|failed|aborted|interrupted)$/.test(e.kind))) {
      if (!events.some((e) => e.kind === "run.completed")) throw new Error("http run failed");
      return;
    }
    if (next) offset = next;
  }
}

/** Both sessions are prepared first (which also warms workerd); samples then alternate. */
async function httpBench(baseUrl: string, tag: string): Promise<number[]> {
  // "What is 2+3?" is two steps in the quickstart (calculator call, then the answer).
  const steps = 2;
  const sessions = HISTORIES.map((h) => `${baseUrl}/agents/assistant/bench-${tag}-${h}`);
  for (const [i, session] of sessions.entries()) {
    for (let j = 0; j < (HISTORIES[i] ?? 0) / 2; j++) await httpRun(session, `hello ${j}`);
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const fmt = (ms: number) => ms.toFixed(3);

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "bench-step-cost-"));
  const rows: string[][] = [];
  try {
    const [small, large] = await nodeBench(dir);
    if (small && large) {
      rows.push([
        "node:sqlite, time per step (ms)",
        fmt(small.perStep),
        fmt(large.perStep),
        (large.perStep / small.perStep).toFixed(2),
      ]);
      rows.push([
        "node:sqlite, first run after wake (ms)",
        fmt(small.coldRun),
        fmt(large.coldRun),
        (large.coldRun / small.coldRun).toFixed(2),
      ]);
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
        const [a, b] = await httpBench(dev.baseUrl, tag);
        if (a !== undefined && b !== undefined)
          rows.push([
            "wrangler dev over HTTP, time per step (ms)",
            fmt(a),
            fmt(b),
            (b / a).toFixed(2),
          ]);
      } finally {
        await dev.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const header = ["step cost", "history 10", "history 1,000", "ratio"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const row of rows) console.log(line(row));
  console.log(
    `\n${STEPS} steps per Node sample, median of ${SAMPLES}; HTTP: 2-step runs, median of ${HTTP_SAMPLES}. ` +
      `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB.`,
  );
}

await main();
