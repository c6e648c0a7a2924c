/**
 * A V8 CPU profile of durable steps in Node (`node:inspector`'s Profiler, the same CDP domain
 * bench/cpu-profile.ts reads from workerd). Like the bench's samples (bench/step-cost.ts),
 * each sample opens a copy of a database holding `history` messages, serves one warm-up run
 * and the WARM_TOOL_RUN, and only then profiles one "work" run (STEPS steps), so the history stays what it says; the
 * samples' time is added up by group (where a step's time goes) and by function.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestSession, ManualClock, NodeSqlPort } from "@durable-agents/core/testing";
import { type CpuProfile, groupTime, summarize } from "../cpu-profile.ts";
import { benchAgent as agent, STEPS, WARM_TOOL_RUN } from "./agent.ts";
import { benchRunId } from "./run-ids.ts";

/**
 * Each sample goes to the first group with a function on its stack (bench/cpu-profile.ts
 * `groupTime`), so the order matters: the model's stream before the runtime that reads it,
 * the prompt before the SQL it runs, SQL before the projections that run it.
 */
export const STEP_GROUPS = {
  "the profiler itself (Profiler.start/stop: not the step's)": ["post", "#onMessage"],
  "scripted model (doStream, its stream)": ["doStream", "pull", "respond"],
  "prompt (MessageCache: refresh, convert)": ["prompt"],
  "SQL: port exec (statements, their parameters and rows)": ["exec", "#prepare"],
  "SQL: transactions (SAVEPOINT/RELEASE)": ["transaction"],
  "tool runner (input check, execute)": ["runTool"],
  "model call (stream reading, watchdog)": ["callModel"],
} as const;

/** A bench session's SQLite file, without journaling or syncs (the bench measures the runtime, not the disk). */
export function open(file: string): NodeSqlPort {
  const sql = new NodeSqlPort(file);
  sql.db.exec("PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF");
  return sql;
}

/** The bench agent's session on `sql`, with the runtime's run ids (or `BENCH_RUN_IDS`'s). */
export function benchSession(sql: NodeSqlPort) {
  return createTestSession(agent, { newId: benchRunId }, { sql, clock: new ManualClock() });
}

/** One run of `message`, driven until nothing is due. */
export async function runOnce(session: ReturnType<typeof createTestSession>, message: string) {
  await session.runtime.start({ message });
  await session.drain();
}

/** Profiles `samples` "work" runs at `history` messages; a text report. */
export async function profileSteps(history = 10, samples = 31): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "bench-step-profile-"));
  const base = join(dir, "base.sqlite");
  const prepared = open(base);
  const setup = benchSession(prepared);
  for (let i = 0; i < history / 2; i++) await runOnce(setup, `hello ${i}`);
  prepared.close();
  const inspector = new Session();
  inspector.connect();
  await inspector.post("Profiler.enable");
  await inspector.post("Profiler.setSamplingInterval", { interval: 50 });
  const groups = new Map<string, number>();
  const self = new Map<string, number>();
  let wall = 0;
  let gc = 0;
  try {
    for (let i = -3; i < samples; i++) {
      const file = join(dir, `sample-${i}.sqlite`);
      copyFileSync(base, file);
      const sql = open(file);
      const session = benchSession(sql);
      await runOnce(session, "warm up");
      await runOnce(session, WARM_TOOL_RUN);
      await inspector.post("Profiler.start");
      const t = performance.now();
      await runOnce(session, "work");
      const ms = performance.now() - t;
      const { profile } = (await inspector.post("Profiler.stop")) as unknown as {
        profile: CpuProfile;
      };
      sql.close();
      rmSync(file, { force: true });
      if (i < 0) continue; // JIT warm-up
      wall += ms;
      const summary = summarize(profile);
      gc += summary.gcMs;
      for (const f of summary.functions) self.set(f.name, (self.get(f.name) ?? 0) + f.ms);
      for (const [name, ms] of Object.entries(groupTime(profile, STEP_GROUPS)))
        groups.set(name, (groups.get(name) ?? 0) + ms);
    }
  } finally {
    inspector.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
  const steps = samples * STEPS;
  const us = (ms: number) => ((ms * 1000) / steps).toFixed(1).padStart(7);
  const top = [...self]
    .filter(([name]) => !name.startsWith("(idle)") && !name.startsWith("(root)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25);
  return [
    `${samples} profiled runs of ${STEPS} steps at ${history.toLocaleString("en")} messages: ${us(wall).trim()} µs per step (wall, profiler on), of which GC ${us(gc).trim()}`,
    "by group (µs per step; a sample goes to the first group on its stack):",
    ...[...groups].map(([name, ms]) => `  ${us(ms)}  ${name}`),
    "self time by function (µs per step):",
    ...top.map(([name, ms]) => `  ${us(ms)}  ${name}`),
  ].join("\n");
}
