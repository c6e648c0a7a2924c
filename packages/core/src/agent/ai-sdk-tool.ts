import type { Tool } from "@ai-sdk/provider-utils";
import type { ToolEffect } from "../ledger/events.ts";
import type { AnyTool, ToolContext } from "./define-tool.ts";

/**
 * An AI SDK tool (`tool({ description, inputSchema, execute })` from `ai`), optionally with
 * the effect durable-agents should treat it with. Passed to `defineAgent` in a record of
 * tools, keyed by name, the way `streamText({ tools })` takes them.
 */
export type AiSdkTool = Tool & { readonly effect?: ToolEffect };

/**
 * The effect an AI SDK tool gets when it does not say: `irreversible`. Its `execute` gets no
 * idempotency key and we cannot know what it does, so it is never run twice: a crash after
 * its `tool.started` pauses the run with `tool.outcome_unknown` for a human to settle,
 * instead of risking a second charge or email. Say `effect: "pure"` (a lookup) or
 * `"idempotent"` to have it run again after a crash.
 */
export const AI_SDK_TOOL_DEFAULT_EFFECT: ToolEffect = "irreversible";

/** Marks a durable-agents tool (`defineTool`), as opposed to an AI SDK tool. */
export function isAiSdkTool(tool: AnyTool | AiSdkTool): tool is AiSdkTool {
  return "inputSchema" in tool && !("input" in tool);
}

/**
 * Adapts an AI SDK tool to a durable-agents tool named `name`, keeping what the model is sent
 * of it (its `inputExamples`, `providerOptions` and `strict`; toolSpecs in prompt.ts sends them
 * as `streamText` does, and its description, see `describe`). Its `execute` gets the AI SDK's
 * options (`toolCallId`, `abortSignal`; `messages` is empty and `context` is `{}`), and a
 * streaming `execute` (an async iterable) yields its last value as the result. Throws a
 * TypeError for a tool that runs at the provider or has no `execute`.
 */
export function fromAiSdkTool(name: string, tool: AiSdkTool): AnyTool {
  if (tool.type === "provider") {
    throw new TypeError(
      `tool "${name}" is a provider-defined tool (${tool.id}); durable-agents runs every tool call itself, so pass a function tool (tool({ inputSchema, execute }))`,
    );
  }
  const execute = tool.execute;
  if (typeof execute !== "function") {
    throw new TypeError(
      `tool "${name}" has no execute(); durable-agents runs tool calls on the server, so give it one (client-side tools are not supported)`,
    );
  }
  const needsApproval = tool.needsApproval;
  const adapted: AnyTool = {
    name,
    description: describe(tool),
    input: tool.inputSchema,
    effect: tool.effect ?? AI_SDK_TOOL_DEFAULT_EFFECT,
    ...(tool.inputExamples == null ? {} : { inputExamples: tool.inputExamples }),
    ...(tool.providerOptions == null ? {} : { providerOptions: tool.providerOptions }),
    ...(tool.strict == null ? {} : { strict: tool.strict }),
    ...(needsApproval === undefined
      ? {}
      : {
          needsApproval:
            typeof needsApproval === "boolean"
              ? needsApproval
              : (input: unknown) => {
                  const answer = needsApproval(input, {
                    toolCallId: "",
                    messages: [],
                    context: {},
                  });
                  // The step decides synchronously: a rule that answers later asks the human.
                  return typeof answer === "boolean" ? answer : true;
                },
        }),
    execute: async (input: unknown, ctx: ToolContext) => {
      const output = execute(input, {
        toolCallId: ctx.callId,
        messages: [],
        abortSignal: ctx.signal,
        context: {},
      });
      if (isAsyncIterable(output)) {
        let last: unknown;
        for await (const value of output) last = value;
        return last;
      }
      return await output;
    },
  };
  return adapted;
}

/**
 * The tool's description: its string, or what its description function answers for the
 * context its `execute` gets (`{}`; the AI SDK calls it with `streamText`'s
 * `toolsContext[name]`), or undefined when it has none (sent without one, as `streamText` sends it).
 */
function describe(tool: AiSdkTool): string | undefined {
  const description = tool.description;
  if (typeof description === "function") return description({ context: {} });
  return description;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === "function";
}
