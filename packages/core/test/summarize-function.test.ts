/**
 * A `context.summarize` function as the compaction calls it (agent/summarize-function.ts): its
 * answer checked, its throw and its timeout typed, an abort returning at once; a summary larger
 * than one event refused before it is committed.
 */
import { describe, expect, it } from "vitest";
import {
  callSummarize,
  checkSummarySize,
  DEFAULT_SUMMARIZE_TIMEOUT_MS,
  MAX_SUMMARY_BYTES,
  SummarizeError,
} from "../src/agent/summarize-function.ts";
import { DurableAgentsError, TerminalError } from "../src/errors/base.ts";
import { ManualClock } from "../src/testing/manual-clock.ts";

function input(signal = new AbortController().signal) {
  return { messages: [], previousSummary: undefined, signal, sessionId: "s1", runId: "r1" };
}

async function refusal(promise: Promise<unknown>): Promise<SummarizeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SummarizeError);
  expect(error).toBeInstanceOf(DurableAgentsError);
  return error as SummarizeError;
}

describe("callSummarize", () => {
  it("returns the summary a function answers", async () => {
    expect(await callSummarize(async () => "they met", input(), new ManualClock())).toBe(
      "they met",
    );
  });

  it("wraps a throw as summarize_failed naming context.summarize, retryable unless terminal", async () => {
    const thrown = await refusal(
      callSummarize(
        async () => {
          throw new Error("quota exceeded");
        },
        input(),
        new ManualClock(),
      ),
    );
    expect(thrown.code).toBe("summarize_failed");
    expect(thrown.retryable).toBe(true);
    expect(thrown.message).toMatch(
      /^context\.summarize threw: quota exceeded; the step is retried/,
    );
    const terminal = await refusal(
      callSummarize(
        () => {
          throw new TerminalError("bad", "no");
        },
        input(),
        new ManualClock(),
      ),
    );
    expect(terminal.retryable).toBe(false);
    expect(terminal.message).toMatch(/the run fails/);
  });

  it("times out after summarizeTimeoutMs with a retryable summarize_timeout", async () => {
    const clock = new ManualClock();
    const pending = callSummarize(() => new Promise<string>(() => {}), input(), clock, 5_000);
    clock.advance(5_000);
    const error = await refusal(pending);
    expect(error.code).toBe("summarize_timeout");
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/within 5000 ms.*raise context\.summarizeTimeoutMs/);
    expect(DEFAULT_SUMMARIZE_TIMEOUT_MS).toBe(120_000);
  });

  it("returns undefined at once when the signal aborts, whatever the function does", async () => {
    const abort = new AbortController();
    const pending = callSummarize(
      () => new Promise<string>(() => {}),
      input(abort.signal),
      new ManualClock(),
    );
    abort.abort(new Error("interrupted"));
    expect(await pending).toBeUndefined();
  });

  it("refuses an empty answer as a retryable empty_summary that points at summarize: false", async () => {
    const error = await refusal(callSummarize(async () => "  \n", input(), new ManualClock()));
    expect(error.code).toBe("empty_summary");
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(
      /context\.summarize answered an empty summary.*set context\.summarize to false/,
    );
  });

  it("refuses a non-string as a terminal invalid_summary that says what to return", async () => {
    for (const [answer, what] of [
      [undefined, "undefined"],
      [{ text: "s" }, "an object"],
      [42, "a number"],
    ] as const) {
      const error = await refusal(
        callSummarize((async () => answer) as never, input(), new ManualClock()),
      );
      expect(error.code).toBe("invalid_summary");
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(`context.summarize answered ${what} instead of a string`);
      expect(error.message).toContain("return the summary as a non-empty string");
    }
  });
});

describe("checkSummarySize", () => {
  it("takes a summary up to the limit and refuses one over it, naming the writer and the limit", () => {
    expect(() =>
      checkSummarySize("x".repeat(MAX_SUMMARY_BYTES - 2), "context.summarize"),
    ).not.toThrow();
    let error: unknown;
    try {
      checkSummarySize("x".repeat(MAX_SUMMARY_BYTES), "context.summarize");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SummarizeError);
    expect((error as SummarizeError).code).toBe("summary_too_large");
    expect((error as SummarizeError).retryable).toBe(false);
    expect((error as SummarizeError).message).toMatch(
      new RegExp(
        `^context\\.summarize wrote a summary of ${MAX_SUMMARY_BYTES + 2} bytes \\(as JSON\\), over the limit of ${MAX_SUMMARY_BYTES} bytes`,
      ),
    );
  });
});
