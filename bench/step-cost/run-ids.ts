/**
 * The run ids the step-cost benches give their sessions: the runtime's own (`newRunId`,
 * time-ordered), or with `BENCH_RUN_IDS=random` random ones as before (`run_` + a random
 * UUID), to measure what the order costs SQLite's indexes (docs/benchmarks.md, "Time-ordered
 * run ids").
 */
import { newRunId } from "../../packages/core/src/agent/run-id.ts";

export const RUN_IDS = process.env.BENCH_RUN_IDS === "random" ? "random" : "time-ordered";

export const benchRunId: () => string =
  RUN_IDS === "random" ? () => `run_${crypto.randomUUID()}` : newRunId;
