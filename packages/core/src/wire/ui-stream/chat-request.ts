import * as z from "zod/mini";
import type { Decision } from "../../agent/run-control.ts";
import type { UserFileInput } from "../../agent/user-files.ts";
import { BadRequestError } from "../../errors/http-errors.ts";
import { LIMITS } from "../../http/limits.ts";
import type { JsonValue } from "../../ledger/events.ts";
import { text as bounded, cutText, MAX_REASON_CHARS, reasonText } from "../../validation/fields.ts";
import { type RequestTerms, requestPath, type StartSource } from "../start-source.ts";

/**
 * The body the AI SDK's `DefaultChatTransport` POSTs (ai v7, `HttpChatTransport.sendMessages`):
 * `{ id, messages, trigger, messageId }`, where `messages` is the client's whole UIMessage list.
 * The server keeps its own history (the ledger), so only the end of the list is read: the user
 * message to answer (and the ids of the assistant messages before it, the nearest run among
 * which is the answer the client saw, which names its turn: ChatTurnRef), or the assistant message that carries answers to tool calls.
 */
const toolApproval = z.looseObject({
  id: z.string(),
  approved: z.optional(z.boolean()),
  reason: z.optional(reasonText),
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
 * Which turn a chat request is about, from what the client sent: its last user message and
 * the answer it saw just before it. The server keeps its own ids (`m<seq>` for a run's user
 * message, the run id for its answer), so a turn is found by its place (or, in a conversation
 * restored from chat-history, by the server's id), not by the client's ids: the run that
 * answered the client's last user message is the shown run right after `previousAnswer` (or
 * the first shown run when there is none), where `previousAnswer` is the nearest assistant message
 * before it whose id is a run of the session (an assistant message only the client has, a
 * greeting or a notice, is not a turn); http/chat/chat-turn.ts applies the rule. ai v7's
 * `Chat.regenerate()` and `sendMessage({ text, messageId })` cut `messages` to end at that
 * user message.
 */
export interface ChatTurnRef {
  /** The client's id for its last user message (a restored one has the server's `m<seq>`). */
  readonly messageId: string;
  /**
   * The ids of the assistant messages before it, nearest first (at most
   * MAX_ANSWERS_BEFORE): the nearest that is a run of the session is the previous turn's
   * answer; the others are the client's own (a greeting in `new Chat({ messages })`, a notice).
   */
  readonly answersBefore: readonly string[];
}

/** How many assistant messages before the last user message a chat request's turn reads. */
export const MAX_ANSWERS_BEFORE = 100;

/** Where the start a chat request becomes reads its fields in the request (`StartSource`). */
export type ChatStartSource = StartSource;

/** A user message to answer: its text and files, where they sit in the request, and its turn. */
interface UserTurn {
  readonly message: string;
  readonly files: UserFileInput[];
  readonly source: ChatStartSource;
  readonly turn: ChatTurnRef;
}

/**
 * What a chat request asks for, decided from its trigger and its last message:
 * - `send`: a new user message (trigger `submit-message`, last message `user`, no `messageId`);
 * - `regenerate`: answer the client's last turn again, replacing its answer (trigger
 *   `regenerate-message`, with or without `messageId`, or `submit-message` with the
 *   `messageId` of an edited user message); the route refuses it unless that turn is the
 *   latest run (`turn`);
 * - `answer`: the last message is the assistant's, carrying approval responses
 *   (`addToolApprovalResponse`) or client-side tool results (`addToolOutput`) for the calls
 *   the run waits on.
 */
export type ChatCommand =
  | (UserTurn & {
      readonly type: "send";
      /**
       * The id of the assistant message just before the new one: the client was shown an
       * answer (which run's: the turn's previousAnswer, skipping the client's own messages).
       */
      readonly after?: string;
    })
  | (UserTurn & {
      readonly type: "regenerate";
      /** `regenerate({ messageId })`: the answer (a run id) or the user message named. */
      readonly messageId?: string;
      /** `sendMessage({ text, messageId })`: the user message is edited. */
      readonly edit: boolean;
    })
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
  const user = userTurn(body);
  if (body.trigger === "regenerate-message")
    return {
      type: "regenerate",
      ...user,
      edit: false,
      ...(body.messageId !== undefined ? { messageId: body.messageId } : {}),
    };
  // submit-message with the id of a user message: sendMessage({ text, messageId }) edits it.
  if (body.messageId !== undefined && body.messageId === last?.id)
    return { type: "regenerate", ...user, edit: true };
  const seen = body.messages.at(-2);
  return { type: "send", ...user, ...(seen?.role === "assistant" ? { after: seen.id } : {}) };
}

/**
 * How a chat request names what its start reads: the user message's `parts`, a `FileUIPart`'s
 * `url` for a start file's `data` (the AI SDK `FilePart` userFiles builds from it).
 */
export const CHAT_REQUEST_TERMS: RequestTerms = {
  what: "the chat request",
  content: (i) => `messages.${i}.parts`,
  fileFields: { data: "url" },
};

/**
 * Where a field of the run start a chat request became (`input.message`,
 * `input.files.<n>.data`, ...) is in the request the client sent (`messages.<i>.parts`,
 * `messages.<i>.parts.<j>.url`, ...), so an error names what the client wrote (requestPath).
 */
export function chatRequestPath(source: ChatStartSource, startPath: string): string {
  return requestPath(CHAT_REQUEST_TERMS, source, startPath);
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
      // A client-side tool's error (addToolOutput): the denial's reason, which the model sees.
      // The client's tool wrote it, not the user, who cannot shorten it: cut, not refused.
      out.push({
        callId: p.toolCallId,
        approved: false,
        reason: cutText(p.errorText ?? "failed", MAX_REASON_CHARS),
      });
    }
  }
  return out;
}

/** The last (user) message: its text, its files, where they sit, and its turn (ChatTurnRef). */
function userTurn(body: ChatRequest): UserTurn {
  const messageIndex = body.messages.length - 1;
  const last = body.messages[messageIndex];
  const text = (last?.parts ?? []).map((p) => (p.type === "text" ? (p.text ?? "") : "")).join("");
  if (last?.role !== "user" || text.trim() === "" || text.length > LIMITS.maxMessageChars)
    throw invalid(
      body,
      `messages.${messageIndex} must be a user message with 1-${LIMITS.maxMessageChars} characters of text parts`,
    );
  const answersBefore: string[] = [];
  for (let i = messageIndex - 1; i >= 0 && answersBefore.length < MAX_ANSWERS_BEFORE; i--) {
    const m = body.messages[i];
    if (m?.role === "assistant") answersBefore.push(m.id);
  }
  const { files, fileParts } = userFiles(last.parts);
  return {
    message: text,
    files,
    source: { messageIndex, fileParts },
    turn: { messageId: last.id, answersBefore },
  };
}

/**
 * The `file` parts of the user message (`FileUIPart`: `{ type: "file", mediaType, url,
 * filename? }`) as AI SDK `FilePart`s, and the index of each in `parts`; the start command
 * checks them like any start's files.
 */
function userFiles(parts: ChatRequest["messages"][number]["parts"]): {
  files: UserFileInput[];
  fileParts: number[];
} {
  const files: UserFileInput[] = [];
  const fileParts: number[] = [];
  for (const [j, p] of parts.entries()) {
    if (p.type !== "file") continue;
    fileParts.push(j);
    files.push({
      type: "file",
      data: p.url ?? "",
      mediaType: p.mediaType ?? "",
      ...(p.filename !== undefined ? { filename: p.filename } : {}),
    });
  }
  return { files, fileParts };
}

function invalid(body: ChatRequest, what: string): BadRequestError {
  return new BadRequestError(
    "invalid_request",
    `the chat request is invalid (trigger ${body.trigger ?? "submit-message"}): ${what}`,
  );
}
