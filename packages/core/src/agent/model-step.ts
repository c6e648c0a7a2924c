import type { LanguageModelV4, LanguageModelV4CallOptions } from "@ai-sdk/provider";
import { TerminalError } from "../errors/base.ts";
import type { NewEvent } from "../ledger/events.ts";
import type { RunRecord } from "../ledger/projections/runs.ts";
import { listMcpTools, mcpToolsOfRun } from "../mcp/run-tools.ts";
import type { TriggerOutcome } from "../triggers/pump.ts";
import { DeltaCoalescer } from "./coalescer.ts";
import type { ContextCompactor } from "./context-compaction.ts";
import { resolveModel } from "./define-agent.ts";
import { callModel } from "./model-call.ts";
import { emptyAnswerError, errorInfo } from "./model-errors.ts";
import {
  callSettings,
  checkPreparedStep,
  type ModelOptions,
  toolChoiceProblem,
} from "./model-options.ts";
import { modelName, watchdogFor } from "./model-timeouts.ts";
import { toolSpecs } from "./prompt.ts";
import { finalOutput, jsonFormat } from "./structured-output.ts";
import type { ToolStepHost } from "./tool-step.ts";

/**
 * One model step of a run (the step machine's `model` action), for `RunDriver.perform`: the
 * run's MCP tools listed (once per run), `step.started`, the call prepared (the compacted
 * prompt, `prepareStep`, the call settings), streamed with its text and reasoning deltas
 * coalesced onto the ledger, then `model.completed` with what follows it (`step.completed`
 * and `run.completed`, `run.failed` or `run.interrupted`, or nothing when tools are next).
 *
 * Invariants:
 * 1. Nothing is committed for a run that stopped running meanwhile (`host.stillRunning`
 *    before every commit after an await).
 * 2. Idempotent by (step, attempt): an attempt that is no longer the run's current one
 *    (`host.currentAttempt`) commits no compaction, no delta and no `model.completed` (a
 *    Workflow step retried while this call still streams: its later deltas are not the answer).
 */

const AGAIN: TriggerOutcome = { type: "again" };
const DONE: TriggerOutcome = { type: "done" };

/** What `run.interrupted` says when the interrupt request gave no reason. */
export const DEFAULT_INTERRUPT_REASON = "interrupted by request";

/** What a model step needs from the driver that runs it (run-driver.ts). */
export interface ModelStepHost extends Pick<ToolStepHost, "options" | "stillRunning" | "append"> {
  /** The run's record as its row is (run-records.ts: from memory while it runs). */
  run(runId: string): RunRecord | undefined;
  /** No newer attempt of the run's model call started here since this one (read from memory). */
  currentAttempt(runId: string, step: number, attempt: number): boolean;
  /** The run's own model settings, as its `run.started` recorded them (the runs projection). */
  runModelOptions(runId: string): ModelOptions | undefined;
  /** The prompt of a step, compacted first when the agent's `context` says so. */
  readonly context: ContextCompactor;
}

/** The model call of one step to perform (`Performable` of type `model`). */
export interface ModelStepAction {
  readonly runId: string;
  readonly step: number;
  readonly attempt: number;
}

/** Runs one model step; `again` when tool calls are next. `signal` aborts the call (an interrupt or an abort). */
export async function runModelStep(
  host: ModelStepHost,
  { runId, step, attempt }: ModelStepAction,
  signal: AbortSignal,
): Promise<TriggerOutcome> {
  const o = host.options;
  const { agent, faults } = o;
  await faults?.("before-model", { sessionId: o.sessionId, runId, step });
  // MCP servers are listed once per run, before its first model call (see mcp/run-tools.ts).
  const listed = await listMcpTools(agent, o.sql, o.env, runId, signal);
  if (!host.stillRunning(runId)) return DONE;
  if (listed.length > 0) host.append(listed);
  host.append([{ kind: "step.started", runId, data: { step, attempt } }]);
  // Whether this attempt may still commit (invariants 1 and 2).
  const current = () => host.stillRunning(runId) && host.currentAttempt(runId, step, attempt);
  let flushed = false;
  const coalescer = new DeltaCoalescer(o.clock, o.coalesce, (text) => {
    if (!current()) return;
    host.append([{ kind: "model.delta", runId, data: { step, text } }]);
    if (!flushed) {
      flushed = true;
      // Sync point inside the stream: a crash here (throw or abort) is possible, a pause is not.
      const paused = faults?.("mid-stream", { sessionId: o.sessionId, runId, step });
      // A promise cannot pause a synchronous stream callback: a rejection here is only noise.
      if (paused instanceof Promise) paused.catch(() => undefined);
    }
  });
  // Reasoning deltas, coalesced like the text; each kind flushes the other before it appends.
  const thinking = new DeltaCoalescer(o.clock, o.coalesce, (text) => {
    if (current()) host.append([{ kind: "model.reasoning_delta", runId, data: { step, text } }]);
  });
  let traced: { provider: string; modelId: string; start: number } | undefined;
  try {
    const { model, options } = await prepareCall(host, { runId, step, attempt }, signal);
    const watchdog = watchdogFor(o.clock, agent.modelTimeouts, model);
    traced = { provider: model.provider, modelId: model.modelId, start: o.clock.now() };
    const result = await callModel(
      model,
      { ...options, abortSignal: signal },
      {
        text: (delta) => {
          // Text after reasoning: the reasoning so far is on the ledger first.
          thinking.flush();
          coalescer.push(delta);
        },
        reasoningDelta: (delta) => {
          coalescer.flush();
          thinking.push(delta);
        },
        reasoning: (whole) => {
          thinking.flush();
          if (current())
            host.append([{ kind: "model.reasoning", runId, data: { step, text: whole } }]);
        },
      },
      watchdog,
    );
    thinking.flush();
    coalescer.flush();
    o.tracer?.model(
      runId,
      {
        step,
        attempt,
        ...traced,
        usage: result.usage,
        finishReason: result.finishReason,
        response: result.response,
      },
      traced.start,
      o.clock.now(),
    );
    // Idempotent by (step, attempt): a call whose attempt is no longer the run's current one
    // (a Workflow step retried while this call still ran) commits nothing.
    if (!current()) return DONE;
    const { interrupted, response: _response, ...outcome } = result;
    const completed: NewEvent<"model.completed"> = {
      kind: "model.completed",
      runId,
      data: { step, ...outcome, model: modelName(model) },
    };
    if (interrupted) {
      host.append([
        completed,
        { kind: "step.completed", runId, data: { step } },
        { kind: "run.interrupted", runId, data: { reason: interruptReason(host.run(runId)) } },
      ]);
      return DONE;
    }
    if (result.toolCalls.length > 0) {
      host.append([completed]);
      return AGAIN;
    }
    // Not an answer: retried as a model error (a new attempt of this step), then terminal.
    const empty = emptyAnswerError(result, result.finishReason);
    if (empty) throw empty;
    const final = finalOutput(agent, result.text);
    host.append([
      completed,
      { kind: "step.completed", runId, data: { step } },
      final.ok
        ? { kind: "run.completed", runId, data: { output: final.output } }
        : { kind: "run.failed", runId, data: { error: final.error } },
    ]);
    return DONE;
  } catch (error) {
    const info = errorInfo(error);
    const now = o.clock.now();
    if (traced)
      o.tracer?.model(runId, { step, attempt, ...traced, error: info }, traced.start, now);
    o.tracer?.stepFailed(runId, step, attempt, info, now);
    throw error;
  }
}

/** The model and call options of one step: the agent's, the run's, then what `prepareStep` changes. */
async function prepareCall(
  host: ModelStepHost,
  { runId, step, attempt }: ModelStepAction,
  signal: AbortSignal,
): Promise<{ model: LanguageModelV4; options: LanguageModelV4CallOptions }> {
  const { agent, env, sessionId, sql } = host.options;
  // Compacted first when the agent's `context` says so, by this attempt only (context-compaction.ts).
  const prompt = await host.context.prompt({
    runId,
    step,
    attempt,
    signal,
    commit: (event) => {
      if (!host.stillRunning(runId) || !host.currentAttempt(runId, step, attempt)) return false;
      host.append([event]);
      return true;
    },
  });
  const prepared = await agent.prepareStep?.({ sessionId, runId, step, attempt, prompt, env });
  checkPreparedStep(step, prepared);
  const system = prepared?.system;
  const active = prepared?.activeTools;
  const keep = (name: string) => !active || active.includes(name);
  const tools = agent.tools.filter((t) => keep(t.name));
  const mcp = mcpToolsOfRun(agent, sql, env, runId).specs.filter((t) => keep(t.name));
  const specs = [...(tools.length > 0 ? toolSpecs(tools) : []), ...mcp];
  const settings = callSettings(agent.modelOptions, host.runModelOptions(runId), prepared);
  // A choice of a tool this call does not offer (not active, or an MCP tool not listed).
  const choice = settings.toolChoice?.type === "tool" ? settings.toolChoice : undefined;
  const problem = toolChoiceProblem(
    choice,
    specs.map((s) => s.name),
  );
  if (problem)
    throw new TerminalError("invalid_tool_choice", `step ${step}: modelOptions.${problem}`);
  return {
    model: prepared?.model ?? resolveModel(agent, env),
    options: {
      ...settings,
      prompt:
        system === undefined
          ? prompt
          : [{ role: "system", content: system }, ...prompt.filter((m) => m.role !== "system")],
      tools: specs.length > 0 ? specs : undefined,
      responseFormat: agent.outputSchema ? jsonFormat(agent.name, agent.outputSchema) : undefined,
    },
  };
}

/** The reason the interrupt request gave (POST interrupt {reason}), carried to `run.interrupted`. */
export function interruptReason(run: RunRecord | undefined): string {
  return run?.interruptReason ?? DEFAULT_INTERRUPT_REASON;
}
