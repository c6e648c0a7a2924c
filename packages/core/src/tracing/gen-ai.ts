import type { ErrorInfo, TokenUsage, ToolEffect } from "../ledger/events.ts";
import type { SpanAttributes } from "./trace-sink.ts";

/**
 * Span names and attributes after the OpenTelemetry semantic conventions for generative AI
 * (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/ and gen-ai-agent-spans/):
 * `invoke_agent {agent}` for a run, `chat {model}` for a model call, `execute_tool {tool}`
 * for a tool call. Our own ids are under `durable_agents.*`.
 */
export const GEN_AI = {
  operation: "gen_ai.operation.name",
  provider: "gen_ai.provider.name",
  requestModel: "gen_ai.request.model",
  finishReasons: "gen_ai.response.finish_reasons",
  responseModel: "gen_ai.response.model",
  responseId: "gen_ai.response.id",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  agentName: "gen_ai.agent.name",
  conversationId: "gen_ai.conversation.id",
  toolName: "gen_ai.tool.name",
  toolCallId: "gen_ai.tool.call.id",
  toolType: "gen_ai.tool.type",
  errorType: "error.type",
} as const;

export const DURABLE_AGENTS = {
  sessionId: "durable_agents.session.id",
  runId: "durable_agents.run.id",
  step: "durable_agents.step",
  attempt: "durable_agents.step.attempt",
  runStatus: "durable_agents.run.status",
  segment: "durable_agents.run.segment",
  waitingReason: "durable_agents.run.waiting_reason",
  toolEffect: "durable_agents.tool.effect",
  idempotencyKey: "durable_agents.tool.idempotency_key",
  link: "durable_agents.link",
  /** True on the `chat` span of a context compaction's summary call (agent/model-summarizer.ts). */
  compaction: "durable_agents.context.compaction",
} as const;

export interface RunIds {
  readonly agent: string;
  readonly sessionId: string;
  readonly runId: string;
}

function runAttributes(ids: RunIds): Record<string, string> {
  return {
    [GEN_AI.agentName]: ids.agent,
    [GEN_AI.conversationId]: ids.sessionId,
    [DURABLE_AGENTS.sessionId]: ids.sessionId,
    [DURABLE_AGENTS.runId]: ids.runId,
  };
}

/** One segment of a run's work; `status` is how it ended (`waiting`, `completed`, ...). */
export function runSpan(
  ids: RunIds,
  status: string,
  segment: number,
): { name: string; attributes: SpanAttributes } {
  return {
    name: `invoke_agent ${ids.agent}`,
    attributes: {
      [GEN_AI.operation]: "invoke_agent",
      ...runAttributes(ids),
      [DURABLE_AGENTS.runStatus]: status,
      [DURABLE_AGENTS.segment]: segment,
    },
  };
}

export function stepSpan(
  ids: RunIds,
  step: number,
  attempt: number,
): { name: string; attributes: SpanAttributes } {
  return {
    name: `step ${step}`,
    attributes: {
      ...runAttributes(ids),
      [DURABLE_AGENTS.step]: step,
      [DURABLE_AGENTS.attempt]: attempt,
    },
  };
}

/** A model call: `provider` and `modelId` as the AI SDK model reports them. */
export interface ModelCallFacts {
  readonly step: number;
  readonly attempt: number;
  readonly provider: string;
  readonly modelId: string;
  readonly usage?: TokenUsage;
  /** The AI SDK's unified reason (`stop`, `tool-calls`, `content-filter`, ...). */
  readonly finishReason?: string;
  /** The provider's response id and the model that answered, when it sent them. */
  readonly response?: { readonly id?: string; readonly modelId?: string };
  readonly error?: ErrorInfo;
  /** The call wrote a context compaction's summary, not the step's answer. */
  readonly compaction?: boolean;
}

/**
 * A finish reason as the GenAI conventions spell it (`stop`, `length`, `tool_calls`,
 * `content_filter`, `error`: the providers' own values), from the AI SDK's unified one
 * (`tool-calls`, `content-filter`, ...).
 */
export function semconvFinishReason(reason: string): string {
  return reason.replaceAll("-", "_");
}

export function chatSpan(
  ids: RunIds,
  call: ModelCallFacts,
): { name: string; attributes: SpanAttributes } {
  return {
    name: `chat ${call.modelId}`,
    attributes: {
      [GEN_AI.operation]: "chat",
      // The AI SDK names providers `openai.chat`, `anthropic.messages`: the system is the first part.
      [GEN_AI.provider]: call.provider.split(".")[0] ?? call.provider,
      [GEN_AI.requestModel]: call.modelId,
      ...runAttributes(ids),
      [DURABLE_AGENTS.step]: call.step,
      [DURABLE_AGENTS.attempt]: call.attempt,
      ...(call.finishReason === undefined
        ? {}
        : { [GEN_AI.finishReasons]: [semconvFinishReason(call.finishReason)] }),
      ...(call.response?.modelId === undefined
        ? {}
        : { [GEN_AI.responseModel]: call.response.modelId }),
      ...(call.response?.id === undefined ? {} : { [GEN_AI.responseId]: call.response.id }),
      ...(call.usage === undefined
        ? {}
        : {
            [GEN_AI.inputTokens]: call.usage.inputTokens,
            [GEN_AI.outputTokens]: call.usage.outputTokens,
          }),
      ...(call.error === undefined ? {} : { [GEN_AI.errorType]: call.error.code }),
      ...(call.compaction ? { [DURABLE_AGENTS.compaction]: true } : {}),
    },
  };
}

export interface ToolCallFacts {
  readonly step: number;
  readonly callId: string;
  readonly name: string;
  readonly effect: ToolEffect;
  readonly idempotencyKey: string;
  readonly error?: ErrorInfo;
}

export function toolSpan(
  ids: RunIds,
  call: ToolCallFacts,
): { name: string; attributes: SpanAttributes } {
  return {
    name: `execute_tool ${call.name}`,
    attributes: {
      [GEN_AI.operation]: "execute_tool",
      [GEN_AI.toolName]: call.name,
      [GEN_AI.toolCallId]: call.callId,
      [GEN_AI.toolType]: "function",
      ...runAttributes(ids),
      [DURABLE_AGENTS.step]: call.step,
      [DURABLE_AGENTS.toolEffect]: call.effect,
      [DURABLE_AGENTS.idempotencyKey]: call.idempotencyKey,
      ...(call.error === undefined ? {} : { [GEN_AI.errorType]: call.error.code }),
    },
  };
}
