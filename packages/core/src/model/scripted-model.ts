import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Message,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
} from "@ai-sdk/provider";

/** What the scripted model says in one turn: text, then tool calls. */
export interface ScriptTurn {
  readonly text?: string;
  readonly toolCalls?: readonly { readonly name: string; readonly args: unknown }[];
}

export interface ScriptContext {
  /** The latest user message. */
  readonly userText: string;
  /**
   * How many tool rounds already answered that message (0 for the first): the assistant
   * messages after it with tool calls. A text-only one (an answer cut short by an interrupt,
   * then resumed with `continue`) is not a round: the turn is answered again.
   */
  readonly turn: number;
  /** Results of the latest tool round's calls, in call order (empty before the first). */
  readonly toolResults: readonly { readonly name: string; readonly output: unknown }[];
  readonly prompt: LanguageModelV4Prompt;
}

/** A rule answers a turn, or returns undefined to let the next rule try. */
export type ScriptRule = (ctx: ScriptContext) => ScriptTurn | undefined;

export interface ScriptedModelOptions {
  /** Fixed turns, by `turn` (the last one repeats). Checked after `rules`. */
  readonly turns?: readonly ScriptTurn[];
  readonly rules?: readonly ScriptRule[];
  /** Characters (Unicode code points) per text delta. Default 8. */
  readonly chunkSize?: number;
  /** Pause between deltas, to make streaming visible. Default 0. */
  readonly delayMs?: number;
  readonly modelId?: string;
}

/**
 * A deterministic LanguageModel (AI SDK provider spec v4) for development and
 * tests. The answer depends only on the prompt, so a redriven call after a
 * crash says exactly what the lost one would have said.
 *
 * Tool call ids are `call_<n>_<i>`: `n` is the number of model turns already in the
 * conversation (the prompt's assistant messages, every run's), `i` the call's index in its
 * turn. So, like a real provider's, an id is never repeated within a session's conversation
 * (the AI SDK's `Chat` finds a tool part by its id across all its messages), and, being a
 * function of the prompt, it is the same when a call is redriven. `n` is read from the tail:
 * the latest of its own ids in the prompt (a tool result's) plus the assistant turns after it
 * (`modelTurns`), so a call costs the same at any history once the model has called a tool;
 * the prompt is walked whole only while it holds none of its ids. A turn that was rewound (a
 * regenerate, a retry from a checkpoint) leaves the prompt, so the turn that replaces it may
 * reuse its ids. After a context compaction (the agent's `context` option) took older turns
 * out, the count goes on from the latest id the prompt kept; it restarts lower only if the
 * compaction took them all.
 */
export function scriptedModel(options: ScriptedModelOptions = {}): LanguageModelV4 {
  const chunkSize = Math.max(1, options.chunkSize ?? 8);
  const delayMs = options.delayMs ?? 0;
  const respond = (prompt: LanguageModelV4Prompt): ScriptTurn => {
    const ctx = scriptContext(prompt);
    for (const rule of options.rules ?? []) {
      const turn = rule(ctx);
      if (turn) return turn;
    }
    const turns = options.turns ?? [];
    return turns[Math.min(ctx.turn, turns.length - 1)] ?? { text: "" };
  };
  return {
    specificationVersion: "v4",
    provider: "scripted",
    modelId: options.modelId ?? "scripted-1",
    supportedUrls: {},
    async doGenerate() {
      throw new Error("the scripted model only streams; call doStream");
    },
    async doStream(call: LanguageModelV4CallOptions) {
      const turn = respond(call.prompt);
      const parts = streamParts(turn, call.prompt, chunkSize);
      const signal = call.abortSignal;
      const stream = new ReadableStream<LanguageModelV4StreamPart>({
        async pull(controller) {
          const next = parts.shift();
          if (!next) return controller.close();
          if (delayMs > 0 && next.type === "text-delta") await sleep(delayMs, signal);
          if (signal?.aborted) return controller.error(signal.reason);
          controller.enqueue(next);
        },
      });
      return { stream };
    },
  };
}

function streamParts(
  turn: ScriptTurn,
  prompt: LanguageModelV4Prompt,
  chunkSize: number,
): LanguageModelV4StreamPart[] {
  const text = turn.text ?? "";
  const calls = turn.toolCalls ?? [];
  const n = calls.length > 0 ? modelTurns(prompt) : 0;
  const parts: LanguageModelV4StreamPart[] = [{ type: "stream-start", warnings: [] }];
  if (text) {
    parts.push({ type: "text-start", id: "t0" });
    // By code points, never UTF-16 units: a delta never holds half a surrogate pair (half an
    // emoji), which every reader of the ledger, AG-UI and the UI stream would pass on.
    const chars = Array.from(text);
    for (let i = 0; i < chars.length; i += chunkSize) {
      parts.push({ type: "text-delta", id: "t0", delta: chars.slice(i, i + chunkSize).join("") });
    }
    parts.push({ type: "text-end", id: "t0" });
  }
  calls.forEach((call, i) => {
    parts.push({
      type: "tool-call",
      toolCallId: `call_${n}_${i}`,
      toolName: call.name,
      input: JSON.stringify(call.args ?? {}),
    });
  });
  // A made-up but deterministic count that does not serialize the whole prompt.
  const inputTokens = 16 * prompt.length;
  const outputTokens = Math.ceil((text.length + JSON.stringify(calls).length) / 4);
  parts.push({
    type: "finish",
    finishReason: { unified: calls.length > 0 ? "tool-calls" : "stop", raw: undefined },
    usage: {
      inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: 0, cacheWrite: 0 },
      outputTokens: { total: outputTokens, text: outputTokens, reasoning: 0 },
    },
  });
  return parts;
}

/**
 * What the prompt says about the latest user message, read back from the tail (so the work is
 * the current turn's, not the history's): the tool rounds since that message (assistant
 * messages with tool-call parts; a text-only assistant message is an answer, whole or cut short
 * by an interrupt, never a finished tool round), and the results of the latest round.
 */
function scriptContext(prompt: LanguageModelV4Prompt): ScriptContext {
  let turn = 0;
  let lastCall = -1;
  let lastUser = prompt.length - 1;
  for (; lastUser >= 0; lastUser--) {
    const m = prompt[lastUser] as LanguageModelV4Message;
    if (m.role === "user") break;
    if (m.role === "assistant" && m.content.some((p) => p.type === "tool-call")) {
      turn++;
      if (lastCall < 0) lastCall = lastUser;
    }
  }
  const user = prompt[lastUser];
  const userText =
    user?.role === "user"
      ? user.content.map((p) => (p.type === "text" ? p.text : "")).join("")
      : "";
  const toolResults: { name: string; output: unknown }[] = [];
  if (lastCall >= 0) {
    for (const m of prompt.slice(lastCall + 1)) {
      if (m.role !== "tool") continue;
      for (const p of m.content) {
        if (p.type === "tool-result")
          toolResults.push({
            name: p.toolName,
            output: "value" in p.output ? p.output.value : null,
          });
      }
    }
  }
  return { userText, turn, toolResults, prompt };
}

/** An id this model gave (`call_<n>_<i>`), read back: `n`, the model turns before its turn. */
const OWN_ID = /^call_(\d+)_\d+$/;

/**
 * The model turns already in the conversation (its assistant messages), read from the tail: the
 * latest tool message answering one of this model's own ids (`call_<n>_<i>`: `n` turns came
 * before the one that called it) gives `n + 1`, plus the assistant messages after it. Only roles
 * are read on the way, as counting them all did, and only as far as that tool message; without
 * one, every assistant message is counted. Equal to counting the whole prompt while the messages
 * before that turn are the ones it was given; after a compaction took some of them out, the
 * count goes on from the id (larger, so still never repeated) rather than starting lower.
 */
function modelTurns(prompt: LanguageModelV4Prompt): number {
  let after = 0;
  for (let i = prompt.length - 1; i >= 0; i--) {
    const m = prompt[i] as LanguageModelV4Message;
    if (m.role === "assistant") after++;
    else if (m.role === "tool") {
      for (const p of m.content) {
        const own = p.type === "tool-result" ? OWN_ID.exec(p.toolCallId) : null;
        if (own) return Number(own[1]) + 1 + after;
      }
    }
  }
  return after;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
