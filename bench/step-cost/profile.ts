/**
 * A V8 CPU profile of durable steps in Node (`node:inspector`'s Profiler, the same CDP
 * domain bench/cpu-profile.ts reads from workerd): `runs` "work" runs of the step-cost
 * bench's agent on a session holding `history` messages, summarized by self and inclusive
 * time and split into groups (where a step's time goes).
 */
import { Session } from "node:inspector/promises";
import { createTestSession, ManualClock, NodeSqlPort } from "@durable-agents/core/testing";
import { type CpuProfile, formatSummary, groupTime, summarize } from "../cpu-profile.ts";
import { benchAgent as agent, STEPS } from "./agent.ts";

/**
 * Each sample goes to the first group with a function on its stack (bench/cpu-profile.ts
 * `groupTime`), so the order matters: the model's stream before the runtime that reads it,
 * SQL before the projections that run it.
 */
export const STEP_GROUPS = {
  "scripted model (doStream, its stream)": ["doStream", "pull", "respond"],
  "SQL: port exec (statements, their parameters and rows)": ["exec", "#prepare"],
  "SQL: transactions (SAVEPOINT/RELEASE)": ["transaction"],
  "JSON encode of events (eventJson)": ["eventJson"],
  "projections (reducers' own JS)": ["apply"],
  "prompt (MessageCache, convert)": ["prompt", "convert"],
  "listeners after an append": ["onAppend", "listener"],
  "tool runner": ["runTool"],
} as const;

export async function profileSteps(history = 10, runs = 300): Promise<string> {
  const sql = new NodeSqlPort();
  let n = 0;
  const session = createTestSession(
    agent,
    { newId: () => `run_${++n}` },
    { sql, clock: new ManualClock() },
  );
  const run = async (message: string) => {
    await session.runtime.start({ message });
    await session.drain();
  };
  for (let i = 0; i < history / 2; i++) await run(`hello ${i}`);
  for (let i = 0; i < 50; i++) await run("work"); // JIT warm-up
  const inspector = new Session();
  inspector.connect();
  await inspector.post("Profiler.enable");
  await inspector.post("Profiler.setSamplingInterval", { interval: 100 });
  await inspector.post("Profiler.start");
  const t = performance.now();
  for (let i = 0; i < runs; i++) await run("work");
  const ms = performance.now() - t;
  const { profile } = (await inspector.post("Profiler.stop")) as unknown as {
    profile: CpuProfile;
  };
  inspector.disconnect();
  sql.close();
  const steps = runs * STEPS;
  const groups = groupTime(profile, STEP_GROUPS);
  return [
    `${runs} runs of ${STEPS} steps on ${history} messages: ${((ms * 1000) / steps).toFixed(1)} µs per step (profiled)`,
    "by group (µs per step):",
    ...Object.entries(groups).map(
      ([name, total]) => `  ${((total * 1000) / steps).toFixed(1).padStart(7)}  ${name}`,
    ),
    formatSummary(summarize(profile), 30),
  ].join("\n");
}
