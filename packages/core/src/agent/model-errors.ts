import type { APICallError } from "@ai-sdk/provider";
import { DurableAgentsError, RetryableError, TerminalError } from "../errors/base.ts";
import type { ErrorInfo } from "../ledger/events.ts";

/**
 * What a model provider's refusal means, from what it says: its status and the
 * text of its error (message and response body). Providers differ in wording, so
 * each kind is a few patterns seen in real answers (OpenAI `context_length_exceeded`
 * and `content_filter`, Anthropic `prompt is too long` and `authentication_error`,
 * Google `exceeds the maximum number of tokens`, OpenAI-compatible servers'
 * `maximum context length`), checked in this order.
 */
export type ProviderRefusal = "context_length" | "content_filter" | "auth" | "rate_limit";

const PATTERNS: readonly (readonly [ProviderRefusal, RegExp])[] = [
  [
    "context_length",
    /context[ _-]?(length|window)|maximum context|prompt is too long|input is too long|too many (input )?tokens|maximum number of tokens|token limit|reduce the length|string_above_max_length/i,
  ],
  [
    "content_filter",
    /content[ _-]?(filter|policy|management)|safety (system|filter|settings)|flagged|moderation|responsible ?ai/i,
  ],
  [
    "auth",
    /api[ _-]?key|unauthori[sz]ed|authenticat|invalid[ _-]?(token|credentials)|permission denied/i,
  ],
  ["rate_limit", /rate[ _-]?limit|too many requests|quota|resource[ _-]?exhausted/i],
];

/** The kind of refusal, from the error's text first, then its status (401/403 auth, 413 too long, 429 limits). */
export function refusalKind(error: APICallError): ProviderRefusal | undefined {
  const text = `${error.message} ${error.responseBody ?? ""}`;
  for (const [kind, pattern] of PATTERNS) if (pattern.test(text)) return kind;
  switch (error.statusCode) {
    case 401:
    case 403:
      return "auth";
    case 413:
      return "context_length";
    case 429:
      return "rate_limit";
    default:
      return undefined;
  }
}

/**
 * A provider's non-retryable refusal as a TerminalError whose code and advice match
 * what the provider said. `detail` says who answered what; the advice is appended.
 */
export function providerRejection(
  error: APICallError,
  detail: string,
): TerminalError | RetryableError {
  const status = error.statusCode;
  const options = { cause: error, details: { status } };
  switch (refusalKind(error)) {
    case "context_length":
      return new TerminalError(
        "model_context_length_exceeded",
        `${detail}; the prompt is longer than the model's context window: start a new session, fork from an earlier checkpoint, shorten the tools' results, or use a model with a larger window`,
        options,
      );
    case "content_filter":
      return new TerminalError(
        "model_content_filtered",
        `${detail}; the provider's content filter refused the prompt or the answer: rephrase the request, or review the provider's content policy`,
        options,
      );
    case "auth":
      return new TerminalError(
        "model_auth_failed",
        `${detail}; check the API key (the secret or binding the agent's model reads) and that it may use this model`,
        options,
      );
    case "rate_limit":
      return new RetryableError(
        "model_rate_limited",
        `${detail}; the provider's rate limit or quota was hit: it is retried with backoff; raise the limit or lower concurrency if it persists`,
        options,
      );
    default:
      return new TerminalError(
        "model_rejected",
        `${detail}; the provider refused the request: check the model id and the request options`,
        options,
      );
  }
}

/**
 * An answer with no tool calls and no visible text (empty or whitespace only) is not
 * an answer: it is retried like a model error, within the step's attempts, and the run
 * fails with `empty_answer` when they are spent. Returns the error, or undefined.
 */
export function emptyAnswerError(
  answer: { readonly text: string; readonly toolCalls: readonly unknown[] },
  finishReason: string,
): RetryableError | undefined {
  if (answer.toolCalls.length > 0 || answer.text.trim() !== "") return undefined;
  const what = answer.text === "" ? "no text" : "only whitespace";
  return new RetryableError(
    "empty_answer",
    `the model answered with ${what} and no tool calls (finish reason: ${finishReason}); an empty answer is retried, and the run fails when the step's attempts are spent: check the model's output limit and content filter, and the prompt`,
  );
}

/** A model call's thrown error as the ledger and a span state one: its code when it is ours. */
export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof DurableAgentsError) return { code: error.code, message: error.message };
  return { code: "model_error", message: error instanceof Error ? error.message : String(error) };
}
