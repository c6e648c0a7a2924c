import * as z from "zod/mini";
import { BadRequestError } from "../../errors/http-errors.ts";
import { LIMITS } from "../../http/limits.ts";
import { text as bounded } from "../../validation/fields.ts";

/**
 * AG-UI `RunAgentInput`, as `@ag-ui/client`'s HttpAgent POSTs it. Validated
 * here (core does not depend on @ag-ui/core); extra fields pass through.
 */
const contentPart = z.looseObject({ type: z.string(), text: z.optional(z.string()) });

export const runAgentInputSchema = z.looseObject({
  threadId: bounded(1, 200),
  runId: bounded(1, 200),
  parentRunId: z.optional(z.string()),
  state: z.optional(z.unknown()),
  messages: z
    .array(
      z.looseObject({
        id: z.string(),
        role: z.enum(["developer", "system", "assistant", "user", "tool", "activity", "reasoning"]),
        content: z.optional(z.union([z.string(), z.array(contentPart)])),
      }),
    )
    .check(z.minLength(1, "messages must end with the user message to answer")),
  tools: z._default(z.array(z.unknown()), []),
  context: z._default(z.array(z.unknown()), []),
  forwardedProps: z.optional(z.unknown()),
  /** AG-UI 1.0: answers to the interrupts the previous run ended with (`RUN_FINISHED` `outcome: interrupt`). */
  resume: z.optional(
    z
      .array(
        z.looseObject({
          interruptId: bounded(1, 300),
          status: z.enum(["resolved", "cancelled"]),
          payload: z.optional(z.unknown()),
        }),
      )
      .check(z.maxLength(100)),
  ),
});

export type RunAgentInput = z.infer<typeof runAgentInputSchema>;

/** The text of the last message, which must be the user's: what the run answers. */
export function lastUserText(input: RunAgentInput): string {
  const last = input.messages.at(-1);
  const content = last?.content;
  const text =
    typeof content === "string"
      ? content
      : (content ?? []).map((part) => (part.type === "text" ? (part.text ?? "") : "")).join("");
  if (last?.role !== "user" || text.trim() === "")
    throw new BadRequestError(
      "invalid_request",
      `the RunAgentInput is invalid: messages.${input.messages.length - 1} must be a user message with text content (the message to answer)`,
    );
  if (text.length > LIMITS.maxMessageChars)
    throw new BadRequestError(
      "invalid_request",
      `the RunAgentInput is invalid: the user message is longer than ${LIMITS.maxMessageChars} characters`,
    );
  return text;
}
