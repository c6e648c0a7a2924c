import type { PriorMessage } from "../ledger/events.ts";
import { toUserFiles, type UserFileInput } from "./user-files.ts";

/**
 * Earlier conversation as a start or a resume takes it (`messages`): text, and for a user message
 * its files as AI SDK `ImagePart`/`FilePart`s, checked like the message's own (user-files.ts).
 */
export interface PriorMessageInput {
  readonly role: "user" | "assistant";
  readonly content: string;
  readonly files?: readonly UserFileInput[];
}

/** Checked prior messages as the ledger records them (`PriorMessage`: files as `FileUIPart`s). */
export function toPriorMessages(messages: readonly PriorMessageInput[]): PriorMessage[] {
  return messages.map(({ role, content, files }) => ({
    role,
    content,
    ...(files?.length ? { files: toUserFiles(files) } : {}),
  }));
}
