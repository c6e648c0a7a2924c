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
import { runInstanceId } from "@durable-agents/core";
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
  /** Where a Workflow run's time goes, per step (ms), from its last instance's step records. */
  readonly workflowSteps: WorkflowStepTimes;
}

/**
 * Medians over the Workflow runs' instances (ms): one model `step.do`, one tool `step.do`, and
 * the rest of a step (the instance's time outside its steps: decide RPCs, the engine's own work).
 */
export interface WorkflowStepTimes {
  readonly model: number;
  readonly tool: number;
  readonly outside: number;
}

/** The bench Worker's Workflow (bench/step-cost/wrangler.jsonc). */
const WORKFLOW = "bench-agent-workflow";

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
    let workflowSteps: WorkflowStepTimes = { model: Number.NaN, tool: Number.NaN, outside: 0 };
    for (const [k, session] of sessions.entries()) {
      const events = await readAll(session);
      if (executors[k]?.executor === "workflow")
        workflowSteps = await instanceTimes(dev.baseUrl, executors[k].agent, `exec-${tag}`, events);
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
      workflowSteps,
    };
  } finally {
    await dev.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

interface BenchEvent {
  readonly kind: string;
  readonly runId: string;
  readonly data: { readonly executor?: string };
}

interface InstanceRecord {
  readonly start: string;
  readonly end: string;
  readonly steps: readonly { name: string; start: string; end: string }[];
}

/**
 * Step times of every run's instance, read from wrangler's local explorer API (what
 * `wrangler workflows instances describe --local` shows): medians per step.
 */
async function instanceTimes(
  baseUrl: string,
  agent: string,
  session: string,
  events: readonly BenchEvent[],
): Promise<WorkflowStepTimes> {
  const model: number[] = [];
  const tool: number[] = [];
  const outside: number[] = [];
  const ms = (a: string, b: string) => Date.parse(b) - Date.parse(a);
  for (const started of events.filter((e) => e.kind === "run.started")) {
    const id = await runInstanceId(agent, session, started.runId);
    const response = await fetch(
      `${baseUrl}/cdn-cgi/local/explorer/api/workflows/${WORKFLOW}/instances/${id}`,
    );
    if (!response.ok) throw new Error(`instance ${id}: ${response.status}`);
    const { result } = (await response.json()) as { result: InstanceRecord };
    let inSteps = 0;
    let modelSteps = 0;
    for (const step of result.steps) {
      const took = ms(step.start, step.end);
      inSteps += took;
      if (step.name.startsWith("model")) {
        model.push(took);
        modelSteps++;
      } else tool.push(took);
    }
    outside.push((ms(result.start, result.end) - inSteps) / modelSteps);
  }
  return { model: median(model), tool: median(tool), outside: median(outside) };
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
