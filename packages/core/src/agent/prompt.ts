import type {
  LanguageModelV4FilePart,
  LanguageModelV4FunctionTool,
  LanguageModelV4Message,
  LanguageModelV4TextPart,
  LanguageModelV4ToolCallPart,
  LanguageModelV4ToolResultOutput,
} from "@ai-sdk/provider";
import type { Message } from "../ledger/projections/message-reads.ts";
import { isMcpContentResult, mcpModelOutput } from "../mcp/content.ts";
import type { AnyTool } from "./define-tool.ts";
import { toolJsonSchema } from "./tool-schema.ts";
import { toPromptFile } from "./user-files.ts";

/** One message of the messages projection in the provider-spec prompt format. */
export function convert(message: Message): LanguageModelV4Message | undefined {
  switch (message.role) {
    case "user":
      return {
        role: "user",
        content: message.parts.flatMap(
          (p): (LanguageModelV4TextPart | LanguageModelV4FilePart)[] =>
            p.type === "text"
              ? [{ type: "text" as const, text: p.text }]
              : p.type === "file"
                ? [toPromptFile(p)]
                : [],
        ),
      };
    case "assistant": {
      const content = message.parts.flatMap(
        (p): (LanguageModelV4TextPart | LanguageModelV4ToolCallPart)[] => {
          if (p.type === "text") return p.text ? [{ type: "text", text: p.text }] : [];
          if (p.type === "tool-call")
            return [{ type: "tool-call", toolCallId: p.callId, toolName: p.name, input: p.args }];
          return [];
        },
      );
      return content.length > 0 ? { role: "assistant", content } : undefined;
    }
    case "tool":
      return {
        role: "tool",
        content: message.parts.flatMap((p) => {
          if (p.type !== "tool-result") return [];
          const output: LanguageModelV4ToolResultOutput =
            p.status === "completed"
              ? isMcpContentResult(p.result)
                ? mcpModelOutput(p.result)
                : { type: "json" as const, value: p.result ?? null }
              : p.status === "failed"
                ? { type: "error-text" as const, value: p.error?.message ?? "tool failed" }
                : { type: "error-text" as const, value: "the outcome of this call is unknown" };
          return [{ type: "tool-result" as const, toolCallId: p.callId, toolName: p.name, output }];
        }),
      };
  }
}
/**
 * The tools as the model gets them: name, input JSON Schema, and the tool's description,
 * `inputExamples`, `providerOptions` and `strict` where it sets them, as the AI SDK's
 * `prepareTools` (`ai` 7, src/prompt/prepare-tools.ts) puts a function tool in the call.
 */
export function toolSpecs(tools: readonly AnyTool[]): LanguageModelV4FunctionTool[] {
  return tools.map((tool) => ({
    type: "function",
    name: tool.name,
    ...(tool.description == null ? {} : { description: tool.description }),
    inputSchema: toolJsonSchema(tool.name, tool.input),
    ...(tool.inputExamples == null
      ? {}
      : { inputExamples: tool.inputExamples as LanguageModelV4FunctionTool["inputExamples"] }),
    ...(tool.providerOptions == null ? {} : { providerOptions: tool.providerOptions }),
    ...(tool.strict == null ? {} : { strict: tool.strict }),
  }));
}
