import * as z from "zod";
import { BadRequestError } from "../../errors/http-errors.ts";
import { LIMITS } from "../../http/limits.ts";

/** The body `useChat` POSTs (DefaultChatTransport): `{ id, messages, trigger, messageId? }`. */
export const chatRequestSchema = z.looseObject({
  id: z.string().max(200).optional(),
  trigger: z.string().max(40).optional(),
  messageId: z.string().max(200).optional(),
  messages: z
    .array(
      z.looseObject({
        id: z.string(),
        role: z.enum(["system", "user", "assistant"]),
        parts: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
      }),
    )
    .min(1, "messages must end with the user message to answer"),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;

export function lastUserMessage(body: ChatRequest): string {
  const last = body.messages.at(-1);
  const text = (last?.parts ?? []).map((p) => (p.type === "text" ? (p.text ?? "") : "")).join("");
  if (last?.role !== "user" || text.trim() === "" || text.length > LIMITS.maxMessageChars)
    throw new BadRequestError(
      "invalid_request",
      `the chat request is invalid: messages.${body.messages.length - 1} must be a user message with 1-${LIMITS.maxMessageChars} characters of text parts`,
    );
  return text;
}
