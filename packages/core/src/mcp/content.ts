import type { LanguageModelV4ToolResultOutput } from "@ai-sdk/provider";
import type { JsonValue } from "../ledger/events.ts";

/**
 * An MCP tool result as the ledger records it (`tool.completed` `result`): the
 * server's content blocks (MCP spec 2025-06-18, "Tool Result": text, image, audio,
 * resource, resource_link) and its `structuredContent`, tagged so the prompt can
 * give the model text and media instead of a JSON dump.
 */
export interface McpContentResult {
  readonly type: "mcp.content";
  readonly content: JsonValue[];
  readonly structuredContent?: JsonValue;
}

export function isMcpContentResult(value: unknown): value is McpContentResult {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { type?: unknown }).type === "mcp.content" &&
    Array.isArray((value as { content?: unknown }).content)
  );
}

type ContentPart = Extract<LanguageModelV4ToolResultOutput, { type: "content" }>["value"][number];

/**
 * What the model reads: text as text, images and audio (base64) as files with their
 * media type, an embedded resource as its text (or as a file, for a blob), a
 * resource link as a line naming it. Unknown blocks become their JSON as text.
 */
export function mcpModelOutput(result: McpContentResult): LanguageModelV4ToolResultOutput {
  const parts = result.content.map(toPart);
  if (parts.length === 0 && result.structuredContent !== undefined)
    return { type: "json", value: result.structuredContent };
  return { type: "content", value: parts };
}

function toPart(block: JsonValue): ContentPart {
  const b = (typeof block === "object" && block !== null ? block : {}) as Record<string, JsonValue>;
  const str = (v: JsonValue | undefined) => (typeof v === "string" ? v : undefined);
  switch (b.type) {
    case "text":
      return { type: "text", text: str(b.text) ?? "" };
    case "image":
    case "audio":
      return {
        type: "file",
        data: { type: "data", data: str(b.data) ?? "" },
        mediaType: str(b.mimeType) ?? "application/octet-stream",
      };
    case "resource": {
      const r = (b.resource ?? {}) as Record<string, JsonValue>;
      const uri = str(r.uri) ?? "";
      if (typeof r.text === "string") return { type: "text", text: `[resource ${uri}]\n${r.text}` };
      return {
        type: "file",
        data: { type: "data", data: str(r.blob) ?? "" },
        mediaType: str(r.mimeType) ?? "application/octet-stream",
      };
    }
    case "resource_link":
      return {
        type: "text",
        text: `[resource link ${str(b.uri) ?? ""}${b.name ? ` "${str(b.name)}"` : ""}${b.description ? `: ${str(b.description)}` : ""}]`,
      };
    default:
      return { type: "text", text: JSON.stringify(block) };
  }
}
