import * as z from "zod/mini";
import type { Decision } from "../../agent/run-control.ts";
import type { UserFileInput } from "../../agent/user-files.ts";
import { BadRequestError } from "../../errors/http-errors.ts";
import { LIMITS } from "../../http/limits.ts";
import type { JsonValue } from "../../ledger/events.ts";
import { text as bounded } from "../../validation/fields.ts";

/**
 * The body the AI SDK's `DefaultChatTransport` POSTs (ai v7, `HttpChatTransport.sendMessages`):
 * `{ id, messages, trigger, messageId }`, where `messages` is the client's whole UIMessage list.
 * The server keeps its own history (the ledger), so only the end of the list is read: the user
 * message to answer, or the assistant message that carries answers to tool calls.
 */
const toolApproval = z.looseObject({
  id: z.string(),
  approved: z.optional(z.boolean()),
  reason: z.optional(bounded(0, 1000)),
});

const part = z.looseObject({
  type: z.string(),
  text: z.optional(z.string()),
  toolCallId: z.optional(z.string()),
  state: z.optional(z.string()),
  output: z.optional(z.unknown()),
  errorText: z.optional(z.string()),
  approval: z.optional(toolApproval),
  // A `file` part (FileUIPart): its url is a data URL or an https URL.
  url: z.optional(z.string()),
  mediaType: z.optional(z.string()),
  filename: z.optional(z.string()),
});

export const chatRequestSchema = z.looseObject({
  id: z.optional(bounded(0, 200)),
  trigger: z.optional(z.enum(["submit-message", "regenerate-message"])),
  messageId: z.optional(bounded(0, 200)),
  messages: z
    .array(
      z.looseObject({
        id: z.string(),
        role: z.enum(["system", "user", "assistant"]),
        parts: z.array(part),
      }),
    )
    .check(z.minLength(1, "messages must end with the user message to answer")),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;

/**
 * What a chat request asks for, decided from its trigger and its last message:
 * - `send`: a new user message (trigger `submit-message`, last message `user`, no `messageId`);
 * - `regenerate`: answer the latest turn again, replacing its answer (trigger
 *   `regenerate-message`, or `submit-message` with the `messageId` of an edited user message);
 * - `answer`: the last message is the assistant's, carrying approval responses
 *   (`addToolApprovalResponse`) or client-side tool results (`addToolOutput`) for the calls
 *   the run waits on.
 */
export type ChatCommand =
  | {
      readonly type: "send";
      readonly message: string;
      readonly files: UserFileInput[];
      /** The id of the assistant message just before the new one: the answer the client saw. */
      readonly after?: string;
    }
  | {
      readonly type: "regenerate";
      readonly message: string;
      readonly files: UserFileInput[];
      readonly messageId?: string;
    }
  | { readonly type: "answer"; readonly messageId: string; readonly decisions: Decision[] };

export function chatCommand(body: ChatRequest): ChatCommand {
  const last = body.messages.at(-1);
  if (last?.role === "assistant") {
    if (body.trigger === "regenerate-message")
      throw invalid(body, "a regenerate request must end with the user message to answer again");
    const answers = decisions(last.parts);
    if (answers.length === 0)
      throw invalid(
        body,
        "the last message is the assistant's but answers no tool call (addToolApprovalResponse, addToolOutput); end with a user message to send one",
      );
    return { type: "answer", messageId: last.id, decisions: answers };
  }
  const message = userText(body);
  const files = userFiles(body);
  if (body.trigger === "regenerate-message")
    return { type: "regenerate", message, files, messageId: body.messageId };
  // submit-message with the id of a user message: sendMessage({ text, messageId }) edits it.
  if (body.messageId !== undefined && body.messageId === last?.id)
    return { type: "regenerate", message, files };
  const seen = body.messages.at(-2);
  return {
    type: "send",
    message,
    files,
    ...(seen?.role === "assistant" ? { after: seen.id } : {}),
  };
}

/** The answers an assistant message carries, one per tool part the client settled. */
function decisions(parts: ChatRequest["messages"][number]["parts"]): Decision[] {
  const out: Decision[] = [];
  for (const p of parts) {
    if (!(p.type.startsWith("tool-") || p.type === "dynamic-tool") || !p.toolCallId) continue;
    if (p.state === "approval-responded" && p.approval?.approved !== undefined) {
      out.push({
        callId: p.toolCallId,
        approved: p.approval.approved,
        ...(p.approval.reason ? { reason: p.approval.reason } : {}),
      });
    } else if (p.state === "output-available" && p.approval?.approved === undefined) {
      // A client-side tool result (addToolOutput): recorded as the call's result.
      out.push({ callId: p.toolCallId, approved: true, result: (p.output ?? null) as JsonValue });
    } else if (p.state === "output-error" && p.approval?.approved === undefined) {
      out.push({ callId: p.toolCallId, approved: false, reason: p.errorText ?? "failed" });
    }
  }
  return out;
}

function userText(body: ChatRequest): string {
  const last = body.messages.at(-1);
  const text = (last?.parts ?? []).map((p) => (p.type === "text" ? (p.text ?? "") : "")).join("");
  if (last?.role !== "user" || text.trim() === "" || text.length > LIMITS.maxMessageChars)
    throw invalid(
      body,
      `messages.${body.messages.length - 1} must be a user message with 1-${LIMITS.maxMessageChars} characters of text parts`,
    );
  return text;
}

/**
 * The `file` parts of the user message (`FileUIPart`: `{ type: "file", mediaType, url,
 * filename? }`) as AI SDK `FilePart`s; the start command checks them like any start's files.
 */
function userFiles(body: ChatRequest): UserFileInput[] {
  const parts = body.messages.at(-1)?.parts ?? [];
  return parts.flatMap((p): UserFileInput[] =>
    p.type === "file"
      ? [
          {
            type: "file",
            data: p.url ?? "",
            mediaType: p.mediaType ?? "",
            ...(p.filename !== undefined ? { filename: p.filename } : {}),
          },
        ]
      : [],
  );
}

function invalid(body: ChatRequest, what: string): BadRequestError {
  return new BadRequestError(
    "invalid_request",
    `the chat request is invalid (trigger ${body.trigger ?? "submit-message"}): ${what}`,
  );
}
