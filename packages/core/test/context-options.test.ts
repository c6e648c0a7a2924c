/**
 * The agent's `context` option as defineAgent checks it: every refusal names the field as
 * `context.<key>` and says what to do.
 */
import { describe, expect, it } from "vitest";
import type { ContextOptions } from "../src/agent/context-options.ts";
import { defineAgent, scriptedModel } from "../src/index.ts";

function agent(context: unknown) {
  return defineAgent({
    name: "words",
    system: "You look things up.",
    context: context as ContextOptions,
    model: scriptedModel({ rules: [() => ({ text: "ok" })] }),
  });
}

const base = { keepMessages: 3, compactAfterMessages: 6 };

describe("the context option's checks", () => {
  it("takes a valid option, a summarize function with its timeout, and a plain window", () => {
    expect(() => agent(base)).not.toThrow();
    expect(() =>
      agent({ ...base, summarize: async () => "s", summarizeTimeoutMs: 5_000 }),
    ).not.toThrow();
    expect(() => agent({ ...base, summarize: false })).not.toThrow();
    expect(() => agent({ ...base, instructions: "Summarize." })).not.toThrow();
  });

  it("takes the token trigger alone or beside the message trigger, and refuses neither", () => {
    expect(() => agent({ keepMessages: 3, compactAfterTokens: 100_000 })).not.toThrow();
    expect(() => agent({ ...base, compactAfterTokens: 100_000 })).not.toThrow();
    expect(() => agent({ keepMessages: 3 })).toThrow(
      /context has no trigger: set context\.compactAfterMessages \(compact when the prompt holds more messages than it, above keepMessages\), context\.compactAfterTokens \(compact once the last model call's input tokens reach it\), or both/,
    );
  });

  it("refuses an unknown (misspelt) key, listing the options", () => {
    expect(() => agent({ keepMessage: 3, compactAfterMessages: 6 })).toThrow(
      /context\.keepMessage is not an option of context; its options are keepMessages, compactAfterMessages, compactAfterTokens, summarize, instructions, summarizeTimeoutMs/,
    );
    expect(() => agent({ ...base, sumarize: false })).toThrow(/context\.sumarize is not an option/);
  });

  for (const value of [true, null, "model"])
    it(`refuses summarize: ${JSON.stringify(value)}, saying what it takes`, () => {
      expect(() => agent({ ...base, summarize: value })).toThrow(
        /context\.summarize must be a function \(\{ messages, previousSummary, signal, sessionId, runId \}\) => Promise<string>, or false for a plain window \(no summary\); leave it out for the default summarizer/,
      );
    });

  it("refuses bad counts and a context that is not an object, with the context. prefix", () => {
    expect(() => agent({ keepMessages: 1.5, compactAfterMessages: 6 })).toThrow(
      /context\.keepMessages must be an integer of at least 1/,
    );
    expect(() => agent({ keepMessages: 3, compactAfterMessages: "6" })).toThrow(
      /context\.compactAfterMessages must be an integer above keepMessages/,
    );
    expect(() => agent({ keepMessages: 3, compactAfterTokens: 0 })).toThrow(
      /context\.compactAfterTokens must be an integer of at least 1 \(compact once the last model call's input tokens reach it\)/,
    );
    expect(() => agent({ ...base, summarizeTimeoutMs: 0 })).toThrow(
      /context\.summarizeTimeoutMs must be an integer of at least 1/,
    );
    expect(() => agent(null)).toThrow(/context must be an object \{ keepMessages/);
  });

  it("refuses instructions next to a summarize function or a plain window", () => {
    expect(() =>
      agent({ ...base, instructions: "Summarize.", summarize: async () => "s" }),
    ).toThrow(
      /context\.instructions is the default summarizer's prompt, and context\.summarize is your own function, which never sees it: drop instructions/,
    );
    expect(() => agent({ ...base, instructions: "Summarize.", summarize: false })).toThrow(
      /context\.summarize is false \(no summary\): drop instructions/,
    );
  });
});
