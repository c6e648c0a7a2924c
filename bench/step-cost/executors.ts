/**
 * The two executors side by side (bench/step-cost.ts): the same scripted agent (agent.ts) as
 * `bench` (alarm executor) and `bench-wf` (Workflow executor: one instance per run, one
 * `step.do` per model call and per tool call) in one `wrangler dev` (bench/step-cost/,
 * workerd with wrangler's local Workflows; bare workerd has no Workflows). Each sample is one
 * "work N" run (N steps: N-1 tool calls, then the answer) on each executor, alternated so load
 * from other processes hits both alike; time per step = run time / N, the run time from the
 * start request to the long-poll that returns `run.completed`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWranglerDev } from "../../test/support/wrangler-dev.ts";
import { benchAgent, benchWorkflowAgent } from "./agent.ts";
import { httpRun, median } from "./http.ts";

export interface ExecutorFigures {
  readonly executor: "alarm" | "workflow";
  readonly agent: string;
  /** Median time per step (ms). */
  readonly perStepMs: number;
  /** Median run time (ms) of one N-step run. */
  readonly runMs: number;
}

export interface ExecutorBench {
  readonly steps: number;
  readonly samples: number;
  readonly figures: readonly ExecutorFigures[];
}

export async function executorBench(steps: number, samples: number): Promise<ExecutorBench> {
  const state = mkdtempSync(join(tmpdir(), "bench-executors-"));
  const dev = await startWranglerDev({
    cwd: import.meta.dirname,
    persistTo: state,
    env: { CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    snapshot: true,
  });
  const tag = Date.now().toString(36);
  const executors = [
    { executor: "alarm" as const, agent: benchAgent.name },
    { executor: "workflow" as const, agent: benchWorkflowAgent.name },
  ];
  try {
    const sessions = executors.map((e) => `${dev.baseUrl}/agents/${e.agent}/exec-${tag}`);
    // A warm object and a warm Worker on both sides before the first sample.
    for (const session of sessions) await httpRun(session, `work ${steps}`);
    const runMs: number[][] = executors.map(() => []);
    for (let i = 0; i < samples; i++)
      for (const [k, session] of sessions.entries()) {
        const t = performance.now();
        await httpRun(session, `work ${steps}`);
        runMs[k]?.push(performance.now() - t);
      }
    // The runs were driven by the executor they name (run.started records it), and had N steps.
    for (const [k, session] of sessions.entries()) {
      const events = await readAll(session);
      const started = events.filter((e) => e.kind === "run.started");
      const executor = started.map((e) => e.data.executor ?? "alarm");
      if (executor.some((e) => e !== executors[k]?.executor))
        throw new Error(`${session}: runs on ${executor.join(", ")}`);
      const stepsDone = events.filter((e) => e.kind === "step.completed").length;
      if (stepsDone !== started.length * steps)
        throw new Error(`${session}: ${stepsDone} steps in ${started.length} runs of ${steps}`);
    }
    return {
      steps,
      samples,
      figures: executors.map((e, k) => {
        const run = median(runMs[k] ?? []);
        return { ...e, runMs: run, perStepMs: run / steps };
      }),
    };
  } finally {
    await dev.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

interface BenchEvent {
  readonly kind: string;
  readonly data: { readonly executor?: string };
}

/** The whole ledger, page by page (a read answers up to a page of events). */
async function readAll(session: string): Promise<BenchEvent[]> {
  const events: BenchEvent[] = [];
  let offset = "-1";
  for (;;) {
    const response = await fetch(`${session}/events?offset=${offset}`);
    if (!response.ok) throw new Error(`${session}: ${response.status} ${await response.text()}`);
    events.push(...((await response.json()) as BenchEvent[]));
    offset = response.headers.get("stream-next-offset") ?? offset;
    if (response.headers.get("stream-up-to-date") === "true") return events;
  }
}
