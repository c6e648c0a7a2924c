import type { LanguageModelV4, LanguageModelV4Message } from "@ai-sdk/provider";
import { RetryableError } from "../errors/base.ts";
import type { TokenUsage } from "../ledger/events.ts";
import type { SummarizeInput } from "./context-options.ts";
import { callModel, type ModelCallResult } from "./model-call.ts";
import { type ModelWatchdog, modelName } from "./model-timeouts.ts";

/** The default summarizer's system prompt (the agent's `context.instructions` replaces it). */
export const DEFAULT_SUMMARY_INSTRUCTIONS =
  "You compact a conversation between a user and an AI assistant that uses tools. Write a summary that lets the assistant carry on without the messages: the user's goals and requests, decisions made, facts learned (names, numbers, identifiers, file names, results of tool calls), what was done and what is still open. Keep it dense and factual, in the conversation's language. Answer with the summary only.";

/** The most characters of one part a transcript shows (a long tool result or file is cut). */
const PART_CHARS = 4000;

/** A summary the default summarizer's model call wrote, and the call's usage. */
export interface ModelSummary {
  readonly summary: string;
  /** `provider:modelId`. */
  readonly model: string;
  readonly usage: TokenUsage;
}

/**
 * The default summarizer's model call: the agent's own model, streamed (as every model call of
 * the runtime), given the previous summary and the messages as a plain-text transcript in one
 * user message. A transcript rather than the messages themselves: some providers refuse tool
 * calls in a prompt that declares no tools (Anthropic), and the summary call offers none. The
 * `watchdog` applies the agent's `modelTimeouts` to it, as to the step's own call. Returns the
 * call's result (`interrupted` when `signal` aborted it); provider errors come back classified
 * (model-call.ts). `modelSummary` reads the summary out of it. See model-summarizer.ts for the
 * call in a compaction (its span, its usage).
 */
export function callSummaryModel(
  model: LanguageModelV4,
  instructions: string,
  input: Omit<SummarizeInput, "sessionId" | "runId">,
  watchdog?: ModelWatchdog,
): Promise<ModelCallResult> {
  const previous = input.previousSummary
    ? `The summary so far:\n\n${input.previousSummary}\n\nThe conversation after it:\n\n`
    : "The conversation:\n\n";
  return callModel(
    model,
    {
      prompt: [
        { role: "system", content: instructions },
        {
          role: "user",
          content: [
            {
              type: "text",
              text: `${previous}${transcript(input.messages)}\n\nWrite the new summary, covering all of the above.`,
            },
          ],
        },
      ],
      abortSignal: input.signal,
    },
    { text: () => undefined },
    watchdog,
  );
}

/** The summary a (not interrupted) call wrote; an empty one is a retryable `empty_summary`. */
export function modelSummary(model: LanguageModelV4, result: ModelCallResult): ModelSummary {
  const summary = result.text.trim();
  if (!summary)
    throw new RetryableError(
      "empty_summary",
      `the model ${modelName(model)} answered the compaction's summary request with no text (finish reason: ${result.finishReason}); the step is retried: check the model's output limit, or give the agent's context option a summarize function`,
    );
  return { summary, model: modelName(model), usage: result.usage };
}

/** Messages as lines of text: `user: ...`, `assistant: ...`, tool calls and their results. */
export function transcript(messages: readonly LanguageModelV4Message[]): string {
  const lines: string[] = [];
  for (const message of messages) {
    if (message.role === "system") lines.push(`system: ${cut(message.content)}`);
    else if (message.role === "tool")
      for (const part of message.content)
        if (part.type === "tool-result")
          lines.push(`tool ${part.toolName} returned: ${cut(outputText(part.output))}`);
        else lines.push("tool: an approval response");
    else
      for (const part of message.content) {
        if (part.type === "text") lines.push(`${message.role}: ${cut(part.text)}`);
        else if (part.type === "file")
          lines.push(
            `${message.role}: [file ${part.mediaType}${part.filename ? ` ${part.filename}` : ""}]`,
          );
        else if (part.type === "tool-call")
          lines.push(`assistant called ${part.toolName}(${cut(JSON.stringify(part.input))})`);
      }
  }
  return lines.join("\n");
}

function outputText(output: { type: string; value?: unknown }): string {
  if (output.type === "text" || output.type === "error-text") return String(output.value);
  if (output.type === "content" && Array.isArray(output.value))
    return output.value
      .map((p: { type: string; text?: string }) => (p.type === "text" ? p.text : `[${p.type}]`))
      .join(" ");
  return JSON.stringify(output.value ?? null);
}

function cut(text: string): string {
  return text.length <= PART_CHARS
    ? text
    : `${text.slice(0, PART_CHARS)}… (${text.length - PART_CHARS} more characters)`;
}
