import {
  AISDKError,
  APICallError,
  type LanguageModelV4,
  type LanguageModelV4CallOptions,
  type LanguageModelV4StreamPart,
  type LanguageModelV4Usage,
  LoadAPIKeyError,
} from "@ai-sdk/provider";
import { RetryableError, TerminalError } from "../errors/base.ts";
import type { JsonValue, TokenUsage, ToolCallRequest } from "../ledger/events.ts";
import {
  type ModelSite,
  missingApiKey,
  providerRejection,
  siteName,
  unreachable,
} from "./model-errors.ts";
import type { ModelWatchdog } from "./model-timeouts.ts";
import { retryAfterMs } from "./retry-after.ts";

export interface ModelCallResult {
  readonly text: string;
  readonly toolCalls: ToolCallRequest[];
  readonly finishReason: string;
  readonly usage: TokenUsage;
  /** True when the call was aborted (an interrupt); `text` is what arrived before it. */
  readonly interrupted: boolean;
  /** The provider's response id and the model that answered (`response-metadata`), when sent. */
  readonly response: { readonly id?: string; readonly modelId?: string };
}

/** Where a streamed call's pieces go as they arrive. */
export interface ModelStreamHandlers {
  /** A text delta of the answer. */
  readonly text: (delta: string) => void;
  /** A reasoning (thinking) delta. */
  readonly reasoningDelta?: (delta: string) => void;
  /** A reasoning block is over (before text or tool calls, or at the end): its whole text. */
  readonly reasoning?: (text: string) => void;
}

/**
 * Streams one model call. Text and reasoning deltas go to `on` as they arrive, and each
 * reasoning block's whole text when it ends; the result is collected for `model.completed`. Provider errors come back
 * classified: RetryableError (429, 5xx, network) or TerminalError (bad request,
 * auth), so the trigger pump knows whether to retry. With a `watchdog`
 * (model-timeouts.ts), a provider that sends no first token or goes quiet is
 * aborted and the call fails with its retryable `model_timeout`.
 */
export async function callModel(
  model: LanguageModelV4,
  options: LanguageModelV4CallOptions & { abortSignal: AbortSignal },
  on: ModelStreamHandlers,
  watchdog?: ModelWatchdog,
): Promise<ModelCallResult> {
  let text = "";
  let reasoning = "";
  /** Hands the reasoning block so far to `on.reasoning` once it is over (before text or tool calls). */
  const endReasoning = () => {
    if (reasoning) on.reasoning?.(reasoning);
    reasoning = "";
  };
  const toolCalls: ToolCallRequest[] = [];
  let finishReason = "unknown";
  let response: ModelCallResult["response"] = {};
  let usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
  const signal = options.abortSignal;
  const guard = <T>(promise: PromiseLike<T>) =>
    watchdog ? watchdog.guard(Promise.resolve(promise)) : Promise.resolve(promise);
  let reader: ReadableStreamDefaultReader<LanguageModelV4StreamPart> | undefined;
  /** The provider answered (`doStream` resolved): a raw error before that is the request's. */
  let answered = false;
  try {
    const abortSignal = watchdog ? AbortSignal.any([signal, watchdog.signal]) : signal;
    const { stream } = await guard(model.doStream({ ...options, abortSignal }));
    reader = stream.getReader();
    answered = true;
    for (;;) {
      const { done, value } = await guard(reader.read());
      if (done) break;
      const part: LanguageModelV4StreamPart = value;
      watchdog?.touch(CONTENT_PARTS.has(part.type));
      switch (part.type) {
        case "reasoning-delta":
          if (part.delta === "") break;
          reasoning += part.delta;
          on.reasoningDelta?.(part.delta);
          break;
        case "reasoning-end":
          endReasoning();
          break;
        case "text-delta":
          endReasoning();
          text += part.delta;
          on.text(part.delta);
          break;
        case "tool-call":
          endReasoning();
          toolCalls.push({
            callId: part.toolCallId,
            name: part.toolName,
            args: parseArgs(part.input),
          });
          break;
        case "finish":
          endReasoning();
          finishReason = part.finishReason.unified;
          usage = tokenUsage(part.usage);
          break;
        case "response-metadata":
          response = {
            ...(part.id === undefined ? {} : { id: part.id }),
            ...(part.modelId === undefined ? {} : { modelId: part.modelId }),
          };
          break;
        case "error":
          throw part.error;
        default:
          break;
      }
      if (signal.aborted) {
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
  } catch (error) {
    if (watchdog?.signal.aborted && !signal.aborted) {
      reader?.cancel().catch(() => undefined);
      throw watchdog.signal.reason;
    }
    if (!signal.aborted)
      throw classifyModelError(error, {
        provider: model.provider,
        modelId: model.modelId,
        beforeResponse: !answered,
      });
  } finally {
    watchdog?.stop();
  }
  if (signal.aborted)
    return { text, toolCalls: [], finishReason: "interrupted", usage, interrupted: true, response };
  return { text, toolCalls, finishReason, usage, interrupted: false, response };
}

/** Stream parts that show the model is answering (the first-token and idle timeouts watch them). */
const CONTENT_PARTS: ReadonlySet<string> = new Set([
  "text-delta",
  "reasoning-delta",
  "tool-input-start",
  "tool-input-delta",
  "tool-call",
  "finish",
]);

/** The AI SDK's usage as the ledger records it: cached and reasoning parts only when non-zero. */
function tokenUsage(usage: LanguageModelV4Usage): TokenUsage {
  const cached = usage.inputTokens.cacheRead ?? 0;
  const reasoning = usage.outputTokens.reasoning ?? 0;
  return {
    inputTokens: usage.inputTokens.total ?? 0,
    outputTokens: usage.outputTokens.total ?? 0,
    ...(cached > 0 ? { cachedInputTokens: cached } : {}),
    ...(reasoning > 0 ? { reasoningTokens: reasoning } : {}),
  };
}

function parseArgs(input: string): JsonValue {
  try {
    return JSON.parse(input) as JsonValue;
  } catch {
    // Kept as a string; the tool's schema check turns it into a tool.failed the model can see.
    return input;
  }
}

/**
 * A model call's thrown error as a RetryableError (the pump tries again) or a TerminalError
 * (the run fails at once), retryable exactly when the AI SDK says so (`APICallError.isRetryable`):
 * - `LoadAPIKeyError` (no API key configured): terminal `model_auth_failed`;
 * - `APICallError` with no status (the SDK's "Cannot connect to API", a fetch that failed):
 *   `model_unreachable`, naming the URL and the cause;
 * - `APICallError` the SDK marks retryable (429, 5xx): `model_unavailable`, after Retry-After;
 * - any other `APICallError`: classified by what the provider said (`providerRejection`:
 *   401/403 auth, 404 not found, context length, content filter);
 * - any other error before the provider answered (`site.beforeResponse`; e.g. workerd's
 *   fetch rejecting with "internal error; reference = …", which the SDK does not wrap): the
 *   fetch failed, retryable `model_unreachable`; after it (a stream that broke), `model_error`.
 * `site` names the model in the messages (`provider`, `modelId`).
 */
export function classifyModelError(
  error: unknown,
  site?: ModelSite,
): RetryableError | TerminalError {
  if (error instanceof RetryableError || error instanceof TerminalError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (LoadAPIKeyError.isInstance(error)) return missingApiKey(error, site);
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    if (status === undefined) return unreachable(error, site, error.url, error.isRetryable);
    const detail = `${siteName(site)} at ${error.url} answered ${status}: ${message}`;
    if (error.isRetryable) {
      // The provider's Retry-After (429, 503) sets when the pump tries again.
      const wait = retryAfterMs(error.responseHeaders, Date.now());
      return new RetryableError("model_unavailable", detail, {
        cause: error,
        ...(wait === undefined ? {} : { retryAfterMs: wait }),
      });
    }
    // Classified by what the provider said (auth, not found, context length, content filter, limits).
    return providerRejection(error, detail, site);
  }
  if (site?.beforeResponse && !AISDKError.isInstance(error))
    return unreachable(error, site, undefined, true);
  return new RetryableError("model_error", `model call failed: ${message}`, { cause: error });
}
