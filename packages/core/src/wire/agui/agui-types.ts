import type { Message } from "../../ledger/projections/message-reads.ts";

/**
 * AG-UI 1.0 events and messages as plain JSON. Core does not depend on
 * `@ag-ui/core`; the tests validate every event we emit against its schemas.
 */
export type AguiEvent = { readonly type: string } & Record<string, unknown>;

export type AguiMessage =
  | { id: string; role: "user"; content: string }
  | {
      id: string;
      role: "assistant";
      content?: string;
      toolCalls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
    }
  | { id: string; role: "tool"; toolCallId: string; content: string; error?: string };

/** Our messages (GET .../messages) as AG-UI messages: one tool message per tool result. */
export function toAguiMessages(messages: readonly Message[]): AguiMessage[] {
  const out: AguiMessage[] = [];
  for (const message of messages) {
    if (message.role === "user") {
      const text = message.parts.map((p) => (p.type === "text" ? p.text : "")).join("");
      out.push({ id: message.id, role: "user", content: text });
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
