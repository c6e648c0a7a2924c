import * as z from "zod/mini";
import type { UserFileInput } from "../../agent/user-files.ts";
import { BadRequestError } from "../../errors/http-errors.ts";
import { text as bounded } from "../../validation/fields.ts";
import { invalidRequest, type RequestTerms, type StartSource } from "../start-source.ts";

/**
 * AG-UI `RunAgentInput`, as `@ag-ui/client`'s HttpAgent POSTs it. Validated
 * here (core does not depend on @ag-ui/core); extra fields pass through.
 */
const contentPart = z.looseObject({
  type: z.string(),
  text: z.optional(z.string()),
  /** A media part's (`image`, `audio`, `video`, `document`) bytes: `@ag-ui/core` `PartSource`. */
  source: z.optional(
    z.looseObject({
      type: z.string(),
      value: z.optional(z.string()),
      mimeType: z.optional(z.string()),
    }),
  ),
});

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

/**
 * How a RunAgentInput names what its start reads: the user message's `content`, and for a start
 * file the media part's `source` (`value`: the bytes or the URL; `mimeType`).
 */
export const RUN_AGENT_INPUT_TERMS: RequestTerms = {
  what: "the RunAgentInput",
  content: (i) => `messages.${i}.content`,
  fileFields: { data: "source.value", image: "source.value", mediaType: "source.mimeType" },
};

/** The user message a RunAgentInput asks the run to answer, and where it sits in the input. */
export interface AguiUserTurn {
  readonly message: string;
  readonly files: UserFileInput[];
  readonly source: StartSource;
}

/** AG-UI 1.0's media parts (`@ag-ui/core` `ContentPart`), each a file of the start. */
const MEDIA = new Set(["image", "audio", "video", "document"]);

/**
 * The last message, which must be the user's with text: its text parts (or string content) are
 * the run's message, its media parts the start's files (an `image` as an AI SDK `ImagePart`, the
 * rest as `FilePart`s; a `data` source's base64 `value` as a data URL, a `url` source's as it
 * is). The start command checks them like any start's (user-files.ts), its refusals named by
 * RUN_AGENT_INPUT_TERMS. 400 `invalid_request` for a last message that is not a user message
 * with text, or a `file` source (a provider's handle, which this server cannot read).
 */
export function aguiUserTurn(input: RunAgentInput): AguiUserTurn {
  const messageIndex = input.messages.length - 1;
  const last = input.messages[messageIndex];
  const content = last?.content;
  const parts = typeof content === "string" ? [{ type: "text", text: content }] : (content ?? []);
  const text = parts.map((part) => (part.type === "text" ? (part.text ?? "") : "")).join("");
  if (last?.role !== "user" || text.trim() === "")
    throw new BadRequestError(
      "invalid_request",
      `the RunAgentInput is invalid: messages.${messageIndex} must be a user message with text content (the message to answer)`,
    );
  const files: UserFileInput[] = [];
  const fileParts: number[] = [];
  for (const [j, part] of parts.entries()) {
    if (!MEDIA.has(part.type) || part.source === undefined) continue;
    const { type, value = "", mimeType } = part.source;
    if (type !== "data" && type !== "url")
      throw invalidRequest(RUN_AGENT_INPUT_TERMS, [
        {
          path: `messages.${messageIndex}.content.${j}.source.type`,
          message: `is "${type.slice(0, 40)}": this server reads no provider file handle; send the bytes or a link instead (source type data or url)`,
        },
      ]);
    const url = type === "data" ? `data:${mimeType ?? ""};base64,${value}` : value;
    fileParts.push(j);
    files.push(
      part.type === "image"
        ? { type: "image", image: url, ...(mimeType !== undefined ? { mediaType: mimeType } : {}) }
        : { type: "file", data: url, mediaType: mimeType ?? "" },
    );
  }
  return { message: text, files, source: { messageIndex, fileParts } };
}
