import type { LanguageModelV4Message } from "@ai-sdk/provider";
import type { Clock } from "../clock.ts";
import type { NewEvent } from "../ledger/events.ts";
import type { RunTracer } from "../tracing/run-tracer.ts";
import type { CompactionCall } from "./context-compaction.ts";
import type { ContextOptions } from "./context-options.ts";
import { type AgentDefinition, resolveModel } from "./define-agent.ts";
import type { ModelCallResult } from "./model-call.ts";
import { errorInfo } from "./model-errors.ts";
import { modelName, watchdogFor } from "./model-timeouts.ts";
import {
  callSummaryModel,
  DEFAULT_SUMMARY_INSTRUCTIONS,
  type ModelSummary,
  modelSummary,
} from "./summarize.ts";
import { checkSummarySize } from "./summarize-function.ts";

/**
 * The default summarizer in a compaction: one call of the agent's own model (summarize.ts),
 * under the agent's `modelTimeouts`, traced and counted like the step's own call.
 *
 * Invariants:
 * 1. Every summary call that returns or throws is traced once: a `chat {model}` span (the
 *    OpenTelemetry GenAI conventions, as the step's call; tracing/gen-ai.ts) under the step
 *    attempt's span, marked `durable_agents.context.compaction`, with its usage and finish
 *    reason, or with the error that refused its summary (`error.type`).
 * 2. A call that reported usage is counted once, by the one usage rule (`usageFactOf`): in the
 *    `context.compacted` that carries its summary, or else in a `context.summary_discarded`
 *    (an empty or too large summary, an interrupt, a compaction committed meanwhile), through
 *    the step's guarded commit: an attempt no longer current records nothing, as it commits no
 *    `model.completed`. A crash loses an uncommitted call's usage, as it loses a step's.
 */

/** What the default summarizer needs of the compactor. */
export interface ModelSummarizerOptions {
  readonly agent: AgentDefinition;
  readonly env: Record<string, unknown>;
  readonly clock: Clock;
  readonly tracer?: RunTracer;
}

/**
 * Writes the summary of `messages` (after `previousSummary`) with the agent's model; undefined
 * when an interrupt cut the call short. Throws the call's classified error, `empty_summary` or
 * `summary_too_large` (invariant 2 records the usage first).
 */
export async function summarizeOnModel(
  o: ModelSummarizerOptions,
  options: ContextOptions,
  call: CompactionCall,
  input: {
    readonly messages: readonly LanguageModelV4Message[];
    readonly previousSummary: string | undefined;
  },
): Promise<ModelSummary | undefined> {
  const { agent, env, clock, tracer } = o;
  const model = resolveModel(agent, env);
  const name = modelName(model);
  const facts = {
    step: call.step,
    attempt: call.attempt,
    provider: model.provider,
    modelId: model.modelId,
    compaction: true,
  };
  const start = clock.now();
  let result: ModelCallResult | undefined;
  let written: ModelSummary | undefined;
  try {
    result = await callSummaryModel(
      model,
      options.instructions ?? DEFAULT_SUMMARY_INSTRUCTIONS,
      { ...input, signal: call.signal },
      watchdogFor(clock, agent.modelTimeouts, model),
    );
    if (!result.interrupted) {
      written = modelSummary(model, result);
      checkSummarySize(written.summary, `the agent's model ${name}`);
    }
  } catch (error) {
    const info = errorInfo(error);
    const usage = result?.usage;
    tracer?.model(call.runId, { ...facts, usage, error: info }, start, clock.now());
    if (usage) discardSummary(call, { model: name, usage }, info.code);
    throw error;
  }
  const { usage, finishReason, response } = result;
  tracer?.model(call.runId, { ...facts, usage, finishReason, response }, start, clock.now());
  if (written === undefined) discardSummary(call, { model: name, usage }, "interrupted");
  return written;
}

/**
 * Records the usage of a summary call whose summary no `context.compacted` carries
 * (invariant 2), when it reported any, through the step's guarded commit.
 */
export function discardSummary(
  call: CompactionCall,
  written: Partial<ModelSummary>,
  reason: string,
): void {
  const { model, usage } = written;
  if (model === undefined || usage === undefined) return;
  if (usage.inputTokens + usage.outputTokens === 0) return;
  const event: NewEvent<"context.summary_discarded"> = {
    kind: "context.summary_discarded",
    runId: call.runId,
    data: { step: call.step, model, usage, reason },
  };
  call.commit(event);
}
