import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import {
  type ModelContext,
  type ScriptRule,
  scriptedModel,
  TerminalError,
} from "@durable-agents/core";
import { RESEARCH_TASK } from "./tools/research.ts";

const MATH = /[-+(]*\d[\d\s.]*(?:[-+*/][\s(]*[-+]?\d[\d\s.)]*)+/;

/** Messages whose simulated outage already happened in this server process. */
const outages = new Set<string>();

/** The demo's embedded model: no key, no network, deterministic (but for one simulated outage). */
const rules: ScriptRule[] = [
  // The researcher sub-agent's runs (tools/research.ts).
  ({ userText }) => {
    if (!userText.startsWith(RESEARCH_TASK)) return undefined;
    const topic = userText.slice(RESEARCH_TASK.length).trim();
    return {
      text: `Research notes on ${topic}: it is well documented, and the key facts fit in two sentences. (The researcher is a sub-agent answering in its own session.)`,
    };
  },
  // A failed run to inspect and retry: the first call for this message in this server
  // process fails with a terminal error (run.failed); a retry of the run then answers.
  ({ userText }) => {
    if (!/\bsimulate an? (?:outage|failure)\b/i.test(userText)) return undefined;
    if (!outages.has(userText)) {
      outages.add(userText);
      throw new TerminalError(
        "provider_outage",
        "the scripted model simulated a provider outage (HTTP 503 from an imaginary upstream, after its retries); retry the run and it answers",
      );
    }
    return { text: "The outage is over: this answer comes from the retried run." };
  },
  ({ userText, turn, toolResults }) => {
    const match = userText.match(MATH);
    if (!match) return undefined;
    const expression = match[0].trim();
    if (turn === 0)
      return {
        text: "Let me calculate that. ",
        toolCalls: [{ name: "calculator", args: { expression } }],
      };
    const output = toolResults[0]?.output as { result?: number } | undefined;
    return { text: `${expression} = ${output?.result ?? "?"}.` };
  },
  ({ userText, turn, toolResults }) => {
    // "remember to buy milk", "remember that X", "note: X": the note is what follows.
    const match = userText.match(/^\s*(?:remember|note)\b[:,]?\s*(?:(?:that|to)\s+)?(.+)$/i);
    if (!match?.[1]) return undefined;
    if (turn === 0)
      return { toolCalls: [{ name: "notes", args: { action: "add", text: match[1] } }] };
    const output = toolResults[0]?.output as { count?: number } | undefined;
    return { text: `Noted. This session now has ${output?.count ?? "?"} note(s).` };
  },
  ({ userText, turn, toolResults }) => {
    if (!/\b(?:clear|delete|forget)\b.*\bnotes?\b/i.test(userText)) return undefined;
    if (turn === 0)
      return { text: "This needs your approval. ", toolCalls: [{ name: "clear_notes", args: {} }] };
    const output = toolResults[0]?.output as { deleted?: number } | undefined;
    return output?.deleted === undefined
      ? { text: "I left your notes alone." }
      : { text: `Deleted ${output.deleted} note(s).` };
  },
  ({ userText, turn, toolResults }) => {
    const match = userText.match(/\bresearch\b[:,]?\s*(?:about\s+)?(.+)$/i);
    if (!match?.[1]) return undefined;
    if (turn === 0) return { toolCalls: [{ name: "research", args: { topic: match[1].trim() } }] };
    const output = toolResults[0]?.output;
    return {
      text: `The researcher says: ${typeof output === "string" ? output : JSON.stringify(output)}`,
    };
  },
  ({ userText, turn, toolResults }) => {
    if (!/\btime\b/i.test(userText)) return undefined;
    if (turn === 0) return { toolCalls: [{ name: "browser_time", args: {} }] };
    const output = toolResults[0]?.output as { time?: string; timeZone?: string } | undefined;
    return output?.time
      ? { text: `Your browser says it is ${output.time} (${output.timeZone ?? "unknown zone"}).` }
      : { text: "Your browser did not tell me the time." };
  },
  ({ userText, turn, toolResults }) => {
    if (!/\bnotes?\b/i.test(userText)) return undefined;
    if (turn === 0) return { toolCalls: [{ name: "notes", args: { action: "list" } }] };
    const output = toolResults[0]?.output as { notes?: string[] } | undefined;
    const saved = output?.notes ?? [];
    return { text: saved.length ? `Your notes: ${saved.join("; ")}.` : "You have no notes yet." };
  },
  () => ({
    text: 'I am the scripted demo model. Try "What is (2+3)*4?", "remember to buy milk", "show my notes", "clear my notes" (asks for approval), "what time is it?" (your browser answers), "research durable objects" (a sub-agent) or "simulate an outage" (a failed run to retry). Set OPENAI_API_KEY or ANTHROPIC_API_KEY to talk to a real model.',
  }),
];

const setting = (env: Record<string, unknown>, name: string): string | undefined => {
  const value = env[name];
  return typeof value === "string" && value ? value : undefined;
};

/**
 * Which model the demo uses for this `env`: the one rule that `demoModel` and the banner
 * share. OpenAI wins when both keys are set.
 */
export function demoModelChoice(env: Record<string, unknown>) {
  const openaiKey = setting(env, "OPENAI_API_KEY");
  if (openaiKey) {
    const baseURL = setting(env, "OPENAI_BASE_URL");
    const modelId = setting(env, "OPENAI_MODEL") ?? "gpt-4o-mini";
    return {
      kind: "openai" as const,
      apiKey: openaiKey,
      baseURL,
      modelId,
      description: `OpenAI-compatible model ${modelId} at ${baseURL ?? "api.openai.com"} (OPENAI_API_KEY)`,
    };
  }
  const anthropicKey = setting(env, "ANTHROPIC_API_KEY");
  if (anthropicKey) {
    const baseURL = setting(env, "ANTHROPIC_BASE_URL");
    const modelId = setting(env, "ANTHROPIC_MODEL") ?? "claude-haiku-4-5";
    return {
      kind: "anthropic" as const,
      apiKey: anthropicKey,
      baseURL,
      modelId,
      description: `Anthropic model ${modelId} at ${baseURL ?? "api.anthropic.com"} (ANTHROPIC_API_KEY)`,
    };
  }
  return { kind: "scripted" as const, description: "embedded scripted model" };
}

/**
 * The scripted model by default. With OPENAI_API_KEY set (and optionally OPENAI_BASE_URL for
 * any OpenAI-compatible server such as Ollama or vLLM, OPENAI_MODEL), OpenAI's chat API
 * through the AI SDK; with ANTHROPIC_API_KEY (ANTHROPIC_BASE_URL, ANTHROPIC_MODEL), Anthropic's
 * messages API. OpenAI wins when both are set.
 */
export function demoModel({ env }: ModelContext) {
  const choice = demoModelChoice(env);
  if (choice.kind === "openai")
    return createOpenAI({ apiKey: choice.apiKey, baseURL: choice.baseURL }).chat(choice.modelId);
  if (choice.kind === "anthropic")
    return createAnthropic({ apiKey: choice.apiKey, baseURL: choice.baseURL })(choice.modelId);
  const delayMs = Number(env.SCRIPTED_DELAY_MS ?? 25);
  return scriptedModel({ rules, chunkSize: 6, delayMs: Number.isFinite(delayMs) ? delayMs : 25 });
}
