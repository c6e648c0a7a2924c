import type { APICallError, LoadAPIKeyError } from "@ai-sdk/provider";
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
export type ProviderRefusal =
  | "context_length"
  | "content_filter"
  | "auth"
  | "rate_limit"
  | "not_found";

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

/** The kind of refusal, from the error's text first, then its status (401/403 auth, 404 not found, 413 too long, 429 limits). */
export function refusalKind(error: APICallError): ProviderRefusal | undefined {
  const text = `${error.message} ${error.responseBody ?? ""}`;
  for (const [kind, pattern] of PATTERNS) if (pattern.test(text)) return kind;
  switch (error.statusCode) {
    case 401:
    case 403:
      return "auth";
    case 404:
      return "not_found";
    case 413:
      return "context_length";
    case 429:
      return "rate_limit";
    default:
      return undefined;
  }
}

/** The model a call went to, for the messages: its provider (`openai.chat`) and model id. */
export interface ModelSite {
  readonly provider: string;
  readonly modelId: string;
  /** The error came before the provider answered (from the request, not the stream). */
  readonly beforeResponse?: boolean;
}

/** "openai.chat (model gpt-4o-mini)", or "the model provider" when the site is not known. */
export function siteName(site: ModelSite | undefined): string {
  return site ? `${site.provider} (model ${site.modelId})` : "the model provider";
}

/**
 * The environment variable an AI SDK provider reads a setting from by convention:
 * `OPENAI_API_KEY` and `OPENAI_BASE_URL` for `openai.chat`, `ANTHROPIC_…` for
 * `anthropic.messages`; undefined when the site is not known.
 */
function variable(
  site: ModelSite | undefined,
  setting: "API_KEY" | "BASE_URL",
): string | undefined {
  const name = site?.provider
    .split(".")[0]
    ?.toUpperCase()
    .replace(/[^A-Z0-9]+/g, "_");
  return name ? `${name}_${setting}` : undefined;
}

/** Where a newcomer sets the key: the advice every auth error ends with. */
function keyAdvice(site: ModelSite | undefined): string {
  const key = variable(site, "API_KEY") ?? "API_KEY";
  return `set ${key} (or the secret the agent's model reads its key from) in .dev.vars for wrangler dev, or as a secret when deployed (wrangler secret put ${key}), and check that the key may use this model`;
}

/** No API key configured (the SDK's `LoadAPIKeyError`): terminal, a retry cannot find one. */
export function missingApiKey(error: LoadAPIKeyError, site: ModelSite | undefined): TerminalError {
  return new TerminalError(
    "model_auth_failed",
    `${siteName(site)} has no API key: ${error.message}; ${keyAdvice(site)}`,
    { cause: error },
  );
}

/**
 * The provider could not be reached (no HTTP answer: refused connection, DNS, TLS, a fetch
 * that failed). Retryable when the SDK says so (its "Cannot connect to API" is), and for a
 * raw fetch failure the SDK did not wrap.
 */
export function unreachable(
  error: unknown,
  site: ModelSite | undefined,
  url: string | undefined,
  retryable: boolean,
): RetryableError | TerminalError {
  const cause = error instanceof Error ? error.message : String(error);
  const where = url === undefined ? "" : ` at ${url}`;
  const baseUrl = variable(site, "BASE_URL");
  const message = `could not reach ${siteName(site)}${where}: ${cause}; check the network and the provider's baseURL${baseUrl ? ` (e.g. ${baseUrl} in .dev.vars, when the agent's model reads it)` : ""}, and that the provider is up`;
  const options = { cause: error, ...(url === undefined ? {} : { details: { url } }) };
  return retryable
    ? new RetryableError("model_unreachable", message, options)
    : new TerminalError("model_unreachable", message, options);
}

/**
 * A provider's non-retryable refusal as a TerminalError whose code and advice match
 * what the provider said. `detail` says who answered what; the advice is appended.
 */
export function providerRejection(
  error: APICallError,
  detail: string,
  site?: ModelSite,
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
        `${detail}; the provider refused the API key (${status ?? "no status"}): ${keyAdvice(site)}`,
        options,
      );
    case "not_found":
      return new TerminalError(
        "model_not_found",
        `${detail}; the provider has no such model or endpoint: check the model id${site ? ` (${site.modelId})` : ""} and the provider's baseURL (OpenAI-compatible servers usually end in /v1)`,
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
