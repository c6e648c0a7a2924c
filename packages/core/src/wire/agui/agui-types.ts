import { fileBase64, type UserFile } from "../../agent/user-files.ts";
import type { Message, MessagePart } from "../../ledger/projections/message-reads.ts";

/**
 * AG-UI 1.0 events and messages as plain JSON. Core does not depend on
 * `@ag-ui/core`; the tests validate every event we emit against its schemas.
 */
export type AguiEvent = { readonly type: string } & Record<string, unknown>;

/**
 * AG-UI 1.0's `ContentPart` (text, or a media part whose `source` is `data` bytes or a `url`):
 * a user message's content when it has files.
 */
export type AguiContentPart =
  | { type: "text"; text: string }
  | {
      type: "image" | "audio" | "video" | "document";
      source:
        | { type: "data"; value: string; mimeType: string }
        | { type: "url"; value: string; mimeType?: string };
      metadata?: { filename: string };
    };

export type AguiMessage =
  | { id: string; role: "user"; content: string | AguiContentPart[] }
  | {
      id: string;
      role: "assistant";
      content?: string;
      toolCalls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
    }
  | { id: string; role: "tool"; toolCallId: string; content: string; error?: string };

/**
 * A user message's content: its text, or, when it has files, its parts in order as AG-UI content
 * parts (what an AG-UI client sent as media parts comes back in the shape it sent).
 */
function userContent(parts: readonly MessagePart[]): string | AguiContentPart[] {
  if (!parts.some((p) => p.type === "file"))
    return parts.map((p) => (p.type === "text" ? p.text : "")).join("");
  return parts.flatMap((p): AguiContentPart[] => {
    if (p.type === "text") return p.text === "" ? [] : [{ type: "text", text: p.text }];
    return p.type === "file" ? [toAguiMediaPart(p)] : [];
  });
}

/**
 * A recorded file (agent/user-files.ts) as AG-UI's media part: its kind by its media type
 * (`document` for any not image, audio or video), a data URL as a `data` source (base64 and
 * its type), an https URL as a `url` source (its type unless only `image/*` is known); a
 * filename, which AG-UI's parts have no field for, in `metadata`.
 */
function toAguiMediaPart(file: UserFile): AguiContentPart {
  const kind = file.mediaType.split("/")[0];
  const base64 = fileBase64(file);
  return {
    type: kind === "image" || kind === "audio" || kind === "video" ? kind : "document",
    source:
      base64 !== null
        ? { type: "data", value: base64, mimeType: file.mediaType }
        : {
            type: "url",
            value: file.url,
            ...(file.mediaType.endsWith("/*") ? {} : { mimeType: file.mediaType }),
          },
    ...(file.filename !== undefined ? { metadata: { filename: file.filename } } : {}),
  };
}

/** Our messages (GET .../messages) as AG-UI messages: one tool message per tool result. */
export function toAguiMessages(messages: readonly Message[]): AguiMessage[] {
  const out: AguiMessage[] = [];
  for (const message of messages) {
    if (message.role === "user") {
      out.push({ id: message.id, role: "user", content: userContent(message.parts) });
    } else if (message.role === "assistant") {
      const text = message.parts.map((p) => (p.type === "text" ? p.text : "")).join("");
      const toolCalls = message.parts.flatMap((p) =>
        p.type === "tool-call"
          ? [
              {
                id: p.callId,
                type: "function" as const,
                function: { name: p.name, arguments: JSON.stringify(p.args) },
              },
            ]
          : [],
      );
      out.push({
        id: message.id,
        role: "assistant",
        ...(text ? { content: text } : {}),
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
      });
    } else {
      for (const part of message.parts) {
        if (part.type !== "tool-result" || part.status === "pending") continue;
        const id = `${message.id}:${part.callId}`;
        if (part.status === "completed")
          out.push({
            id,
            role: "tool",
            toolCallId: part.callId,
            content: JSON.stringify(part.result),
          });
        else
          out.push({
            id,
            role: "tool",
            toolCallId: part.callId,
            content: JSON.stringify(part.error ?? { status: part.status }),
            error: part.error?.message ?? part.status,
          });
      }
    }
  }
  return out;
}
