import type { Clock } from "../clock.ts";
import { DurableAgentsError } from "../errors/base.ts";
import { MAX_EVENT_BYTES } from "../ledger/ledger.ts";
import { utf8Exceeds, utf8Length } from "../utf8.ts";
import type { SummarizeInput, Summarizer } from "./context-options.ts";

/**
 * Calling the agent's own `context.summarize` function, and checking what any summarizer wrote.
 *
 * Invariants:
 * 1. A summarize function never holds a step: it is raced against the step's signal (an
 *    interrupt or abort returns at once, nothing committed) and `context.summarizeTimeoutMs`
 *    (a retryable `summarize_timeout`), whether or not it heeds the signal it is given.
 * 2. Only a non-empty string is a summary. Anything else is a typed `SummarizeError` naming
 *    `context.summarize` and what to return; nothing is committed and the prompt is unchanged.
 */

/** How long one call of a `context.summarize` function may take, by default: 120 s. */
export const DEFAULT_SUMMARIZE_TIMEOUT_MS = 120_000;

/**
 * The largest summary a compaction commits: its JSON (as the `context.compacted` event stores
 * it) in UTF-8 bytes, the ledger's one-event limit less 4 KiB for the event's other fields.
 */
export const MAX_SUMMARY_BYTES = MAX_EVENT_BYTES - 4 * 1024;

export type SummarizeErrorCode =
  | "invalid_summary"
  | "empty_summary"
  | "summary_too_large"
  | "summarize_failed"
  | "summarize_timeout";

/**
 * A compaction's summary could not be made: the step's attempt fails with it. Retryable
 * (`empty_summary`, `summarize_timeout`, a `summarize_failed` whose cause may pass) means the
 * step is retried within its budget; the others fail the run at once, since the same input
 * gives the same answer.
 */
export class SummarizeError extends DurableAgentsError {
  override name = "SummarizeError";
  constructor(
    code: SummarizeErrorCode,
    message: string,
    retryable: boolean,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, retryable ? 503 : 500, message, retryable, options);
  }
}

const RETURN = "return the summary as a non-empty string (Promise<string>)";

/**
 * Calls `summarize` (invariant 1) and checks its answer (invariant 2). Returns the summary, or
 * undefined when `input.signal` aborted first (an interrupt: nothing to commit).
 */
export async function callSummarize(
  summarize: Summarizer,
  input: SummarizeInput,
  clock: Clock,
  timeoutMs: number = DEFAULT_SUMMARIZE_TIMEOUT_MS,
): Promise<string | undefined> {
  const { signal } = input;
  if (signal.aborted) return undefined;
  // Aborted by the step's signal or when the call is over: ends the race's other entrants.
  const done = new AbortController();
  const stop = done.signal;
  const onAbort = () => done.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  const aborted = new Promise<undefined>((resolve) =>
    stop.addEventListener("abort", () => resolve(undefined), { once: true }),
  );
  const timedOut = clock.sleep(timeoutMs, stop).then(
    () => {
      throw new SummarizeError(
        "summarize_timeout",
        `context.summarize did not answer within ${timeoutMs} ms, so the step is retried; make it answer sooner (it is given a signal: stop when it aborts) or raise context.summarizeTimeoutMs`,
        true,
      );
    },
    () => undefined,
  );
  let answer: unknown;
  try {
    answer = await Promise.race([
      Promise.resolve().then(() => summarize(input)),
      aborted,
      timedOut,
    ]);
  } catch (error) {
    if (signal.aborted) return undefined;
    if (error instanceof SummarizeError) throw error;
    const retryable = !(error instanceof DurableAgentsError) || error.retryable;
    const why = error instanceof Error ? error.message : String(error);
    throw new SummarizeError(
      "summarize_failed",
      `context.summarize threw: ${why}; ${retryable ? "the step is retried" : "the run fails"}. Fix the summarize function, or throw a RetryableError for a failure that may pass`,
      retryable,
      { cause: error },
    );
  } finally {
    signal.removeEventListener("abort", onAbort);
    done.abort();
  }
  if (signal.aborted) return undefined;
  if (typeof answer !== "string")
    throw new SummarizeError(
      "invalid_summary",
      `context.summarize answered ${describe(answer)} instead of a string; ${RETURN}, e.g. \`async ({ messages, previousSummary }) => "..."\` (a forgotten return gives undefined)`,
      false,
    );
  if (answer.trim() === "")
    throw new SummarizeError(
      "empty_summary",
      `context.summarize answered an empty summary, so the step is retried; ${RETURN}. For no summary at all (the older messages dropped), set context.summarize to false`,
      true,
    );
  return answer;
}

/** Refuses a summary too large for its `context.compacted` event (MAX_SUMMARY_BYTES). */
export function checkSummarySize(summary: string, writer: string): void {
  const json = JSON.stringify(summary);
  if (!utf8Exceeds(MAX_SUMMARY_BYTES, json)) return;
  const bytes = utf8Length(json);
  throw new SummarizeError(
    "summary_too_large",
    `${writer} wrote a summary of ${bytes} bytes (as JSON), over the limit of ${MAX_SUMMARY_BYTES} bytes a compaction's summary may take (one ledger event, see docs/limits.md); the run fails. Write a shorter summary${writer === "context.summarize" ? "" : " (set context.instructions to ask for one, or give context a summarize function)"}`,
    false,
    { details: { limitBytes: MAX_SUMMARY_BYTES, bytes } },
  );
}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
