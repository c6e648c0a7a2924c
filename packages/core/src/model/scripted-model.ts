import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
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
  /** How many model turns already answered that message (0 for the first). */
  readonly turn: number;
  /** Results of the previous turn's tool calls, in call order. */
  readonly toolResults: readonly { readonly name: string; readonly output: unknown }[];
  readonly prompt: LanguageModelV4Prompt;
}

/** A rule answers a turn, or returns undefined to let the next rule try. */
export type ScriptRule = (ctx: ScriptContext) => ScriptTurn | undefined;

export interface ScriptedModelOptions {
  /** Fixed turns, by turn index (the last one repeats). Checked after `rules`. */
  readonly turns?: readonly ScriptTurn[];
  readonly rules?: readonly ScriptRule[];
  /** Characters per text delta. Default 8. */
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
 * function of the prompt, it is the same when a call is redriven. Only turns the prompt still
 * holds are counted: a turn that was rewound (a regenerate, a retry from a checkpoint) leaves
 * it, so the turn that replaces it may reuse its ids, and so may turns after a context
 * compaction (the agent's `context` option), which takes older turns out of the prompt.
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
  // Counted, not filtered: a copy of every assistant message per call grows with the history.
  let modelTurns = 0;
  for (const m of prompt) if (m.role === "assistant") modelTurns++;
  const parts: LanguageModelV4StreamPart[] = [{ type: "stream-start", warnings: [] }];
  if (text) {
    parts.push({ type: "text-start", id: "t0" });
    for (let i = 0; i < text.length; i += chunkSize) {
      parts.push({ type: "text-delta", id: "t0", delta: text.slice(i, i + chunkSize) });
    }
    parts.push({ type: "text-end", id: "t0" });
  }
  calls.forEach((call, i) => {
    parts.push({
      type: "tool-call",
      toolCallId: `call_${modelTurns}_${i}`,
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

function scriptContext(prompt: LanguageModelV4Prompt): ScriptContext {
  let lastUser = prompt.length - 1;
  while (lastUser >= 0 && prompt[lastUser]?.role !== "user") lastUser--;
  const user = prompt[lastUser];
  const userText =
    user?.role === "user"
      ? user.content.map((p) => (p.type === "text" ? p.text : "")).join("")
      : "";
  const after = prompt.slice(lastUser + 1);
  const turn = after.filter((m) => m.role === "assistant").length;
  const last = after.at(-1);
  const toolResults =
    last?.role === "tool"
      ? last.content.flatMap((p) =>
          p.type === "tool-result"
            ? [{ name: p.toolName, output: "value" in p.output ? p.output.value : null }]
            : [],
        )
      : [];
  return { userText, turn, toolResults, prompt };
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
