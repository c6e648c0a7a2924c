/**
 * Test pieces shared by core's tests and the workers tests (packages/cloudflare/test): it
 * imports core's public index only (no `node:*`, no test session), so workerd can load it.
 */
import type { LanguageModelV4Prompt } from "@ai-sdk/provider";
import * as z from "zod";
import { IdlePromptCaches } from "../src/agent/idle-prompt-caches.ts";
import { MessageCache } from "../src/agent/message-cache.ts";
import {
  defineAgent,
  defineTool,
  type Logger,
  type SpanRecord,
  scriptedModel,
  type TraceSink,
} from "../src/index.ts";
import type { SqlPort } from "../src/sql/port.ts";

/** The system prompt of the adder agents of these tests. */
export const ADDER_SYSTEM = "You add numbers.";

/** Adds two numbers; a call with `a` = 7 waits for a human's approval first (`needsApproval`). */
export const approvableAdd = defineTool({
  name: "add",
  description: "Adds two numbers; 7 + anything needs a human's approval.",
  input: z.object({ a: z.number(), b: z.number() }),
  effect: "pure",
  needsApproval: ({ a }) => a === 7,
  execute: ({ a, b }) => a + b,
});

/** What a session's prompts are read from: its SQL and its runtime's ledger. */
interface PromptSource {
  readonly sql: SqlPort;
  readonly runtime: { readonly ledger: { readonly tail: number } };
}

/**
 * The prompt (system `ADDER_SYSTEM`) a fresh message cache, with an idle budget of its own,
 * reads from `s`'s ledger up to its tail: what each model call must receive, whatever the
 * session's own cache did. `compacted` as in `MessageCache` (the agent has a `context` option).
 */
export function freshPrompt(s: PromptSource, compacted = false): LanguageModelV4Prompt {
  const fresh = new MessageCache(s.sql, { compacted, idle: new IdlePromptCaches() });
  return fresh.prompt(ADDER_SYSTEM, s.runtime.ledger.tail);
}

/** Whether `prompt` is exactly (as JSON) a fresh read of `s`'s ledger (`freshPrompt`). */
export function isFreshPrompt(s: PromptSource, prompt: LanguageModelV4Prompt): boolean {
  return JSON.stringify(freshPrompt(s)) === JSON.stringify(prompt);
}

/** A small deterministic generator (mulberry32) of numbers in [0, 1), so a failure replays. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The ids of run `runId`'s tool calls that wait for a human's approval (`tool_calls` rows). */
export function awaitingApproval(sql: SqlPort, runId: string): string[] {
  return sql
    .exec<{ call_id: string }>(
      "SELECT call_id FROM tool_calls WHERE run_id = ? AND status = 'awaiting_approval'",
      runId,
    )
    .map((row) => row.call_id);
}

/**
 * Calls `add(2, 3)` (irreversible: `executions.n` counts how many times it ran), then answers
 * with its result. Two steps: the call, the answer.
 */
export function irreversibleAdder(executions: { n: number }) {
  const add = defineTool({
    name: "add",
    description: "Adds two numbers",
    input: z.object({ a: z.number(), b: z.number() }),
    effect: "irreversible",
    execute: ({ a, b }) => {
      executions.n++;
      return a + b;
    },
  });
  return defineAgent({
    name: "adder",
    system: ADDER_SYSTEM,
    tools: [add],
    model: scriptedModel({
      rules: [
        ({ turn, toolResults }) =>
          turn > 0
            ? { text: `The answer is ${toolResults[0]?.output}.` }
            : { text: "Adding.", toolCalls: [{ name: "add", args: { a: 2, b: 3 } }] },
      ],
    }),
  });
}

/**
 * A trace sink whose `record` throws ("the sink is down") the first time it gets the span named
 * `span`, and records nothing; `thrown` counts the spans of that name it got.
 */
export function sinkFailingOnce(span: string): {
  readonly sink: TraceSink;
  readonly thrown: number;
} {
  let thrown = 0;
  const sink: TraceSink = {
    record: (record: SpanRecord) => {
      if (record.name === span && thrown++ === 0) throw new Error("the sink is down");
    },
    flush: async () => {},
  };
  return {
    sink,
    get thrown() {
      return thrown;
    },
  };
}

/** A logger that keeps what it was given at `error` (message and fields) in `errors`. */
export function recordingLogger() {
  const errors: { message: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (message, fields) => errors.push({ message, fields }),
  };
  return { logger, errors };
}

/** The steps a ledger's events say completed (`step.completed`), in ledger order. */
export function stepsCompleted(
  events: readonly { readonly kind: string; readonly data: unknown }[],
) {
  return events
    .filter((e) => e.kind === "step.completed")
    .map((e) => (e.data as { step: number }).step);
}
