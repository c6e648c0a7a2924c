/**
 * Where a step's CPU time goes at each history, without a profiler (`npm run bench --
 * step-cost -- --attribute`): the bench's own sample (a copy of the prepared database, one
 * warm-up run and the WARM_TOOL_RUN, then the STEPS-step "work" run; histories alternated), with the prompt
 * (`MessageCache.prompt`), the SQL port's statements and the model's `doStream` timed by
 * wrapping them, and garbage-collection pauses read from `PerformanceObserver` ("gc" entries)
 * during the measured run. A CPU profile (`--profile`) allocates per sample and runs the
 * collector itself; this does not, so its GC figure is the step's own.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import type { LanguageModelV4 } from "@ai-sdk/provider";
import { NodeSqlPort } from "@durable-agents/core/testing";
import { MessageCache } from "../../packages/core/src/agent/message-cache.ts";
import { benchAgent as agent, STEPS, WARM_TOOL_RUN } from "./agent.ts";
import { median } from "./http.ts";
import { benchSession, open, runOnce } from "./profile.ts";

/** Milliseconds spent in each wrapped part since the last reset. */
const spent = { prompt: 0, sql: 0, model: 0 };

/** Wraps `target[name]` so its time (to its promise's settling, if async) adds to `spent[part]`. */
function timed(target: object, name: string, part: keyof typeof spent): () => void {
  const host = target as Record<string, (...args: unknown[]) => unknown>;
  const original = host[name] as (...args: unknown[]) => unknown;
  host[name] = function (this: unknown, ...args: unknown[]) {
    const t = performance.now();
    const add = () => {
      spent[part] += performance.now() - t;
    };
    let result: unknown;
    try {
      result = original.apply(this, args);
    } catch (error) {
      add();
      throw error;
    }
    if (result instanceof Promise) return result.finally(add);
    add();
    return result;
  };
  return () => {
    host[name] = original;
  };
}

interface Window {
  readonly history: number;
  readonly t0: number;
  readonly t1: number;
  readonly cpu: number;
  readonly prompt: number;
  readonly sql: number;
  readonly model: number;
}

/** A text report: per history, medians per step (µs) of CPU time and of each part, and GC pauses. */
export async function attributeSteps(histories: readonly number[], samples = 21): Promise<string> {
  const gcs: { start: number; ms: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime, ms: e.duration });
  });
  observer.observe({ entryTypes: ["gc"] });
  const restore = [
    timed(MessageCache.prototype, "prompt", "prompt"),
    timed(NodeSqlPort.prototype, "exec", "sql"),
    timed(agent.model as LanguageModelV4, "doStream", "model"),
  ];
  const dir = mkdtempSync(join(tmpdir(), "bench-step-attribute-"));
  const windows: Window[] = [];
  try {
    const bases = new Map<number, string>();
    for (const history of histories) {
      const file = join(dir, `base-${history}.sqlite`);
      const sql = open(file);
      const setup = benchSession(sql);
      for (let i = 0; i < history / 2; i++) await runOnce(setup, `hello ${i}`);
      sql.close();
      bases.set(history, file);
    }
    for (let i = -3; i < samples; i++)
      for (const [history, base] of bases) {
        const file = join(dir, `sample-${i}-${history}.sqlite`);
        copyFileSync(base, file);
        const sql = open(file);
        const session = benchSession(sql);
        await runOnce(session, "warm up");
        await runOnce(session, WARM_TOOL_RUN);
        spent.prompt = spent.sql = spent.model = 0;
        const t0 = performance.now();
        const cpu = process.cpuUsage();
        await runOnce(session, "work");
        const used = process.cpuUsage(cpu);
        const t1 = performance.now();
        sql.close();
        rmSync(file, { force: true });
        if (i < 0) continue; // JIT warm-up
        windows.push({ history, t0, t1, cpu: (used.user + used.system) / 1000, ...spent });
      }
    await new Promise((resolve) => setTimeout(resolve, 100)); // the last "gc" entries
  } finally {
    observer.disconnect();
    for (const undo of restore) undo();
    rmSync(dir, { recursive: true, force: true });
  }
  const us = (ms: number) => ((ms * 1000) / STEPS).toFixed(0).padStart(6);
  const lines = [
    `${samples} "work" runs of ${STEPS} steps per history, alternated; µs per step (medians; GC: mean of the pauses inside the measured runs, count over all runs)`,
    "history | CPU time | of it the runtime (CPU time − model doStream) | prompt | SQL statements | model doStream | rest | GC pauses",
  ];
  const runtimeByHistory = new Map<number, { cpu: number; runtime: number }>();
  for (const history of histories) {
    const mine = windows.filter((w) => w.history === history);
    const pauses = mine.map((w) => gcs.filter((g) => g.start >= w.t0 && g.start <= w.t1));
    const gcMs = pauses.flat().reduce((sum, g) => sum + g.ms, 0) / mine.length;
    const pick = (f: (w: Window) => number) => median(mine.map(f));
    const rest = pick((w) => w.cpu - w.prompt - w.sql - w.model);
    const runtime = pick((w) => w.cpu - w.model);
    runtimeByHistory.set(history, { cpu: pick((w) => w.cpu), runtime });
    lines.push(
      `${history.toLocaleString("en").padStart(7)} | ${us(pick((w) => w.cpu))} | ${us(runtime)} | ${us(pick((w) => w.prompt))} | ${us(pick((w) => w.sql))} | ${us(pick((w) => w.model))} | ${us(rest)} | ${us(gcMs)} (${pauses.flat().length} in ${mine.length} runs)`,
    );
  }
  // The step's growth with the history, whole and without the model's own per-call work (the
  // scripted model walks the prompt on every call, as any model must read what it is sent).
  const first = runtimeByHistory.get(histories[0] ?? 0);
  const last = runtimeByHistory.get(histories.at(-1) ?? 0);
  if (first && last && histories.length > 1)
    lines.push(
      `${(histories.at(-1) ?? 0).toLocaleString("en")} ÷ ${(histories[0] ?? 0).toLocaleString("en")}: CPU time ${(last.cpu / first.cpu).toFixed(2)}×, the runtime alone ${(last.runtime / first.runtime).toFixed(2)}×`,
    );
  return lines.join("\n");
}
