import type { UserFile } from "../../agent/user-files.ts";
import type { Ledger } from "../../ledger/ledger.ts";
import {
  type Message,
  type MessagePart,
  runUserMessages,
} from "../../ledger/projections/message-reads.ts";
import type { RunRecord } from "../../ledger/projections/runs.ts";
import type { SqlPort } from "../../sql/port.ts";
import { endsRun } from "../replay-end.ts";
import { createUiStreamProjector, type UiChunk } from "./ui-stream-projector.ts";
import { visibleRun } from "./visible-run.ts";

/**
 * A session's conversation as AI SDK chat turns, for a client that restores a chat
 * (`GET .../chat-history`): each visible run is a turn, its user messages as UIMessages and its
 * answer as the UI message stream a live chat was sent for it, which the client's AI SDK
 * (`readUIMessageStream`) builds into the same assistant UIMessage.
 *
 * Invariants:
 * 1. A turn's chunks are the UI message stream projector's (ui-stream-projector.ts) over the
 *    run's events, from its `run.started` to where a stream bound to the run ends (`endsRun`,
 *    wire/replay-end.ts): through every segment of a run that paused and moved on, up to the
 *    pause it is in. The live stream and the restored one are one projection.
 * 2. Only adjacent deltas of one part are merged (`text-delta`, `reasoning-delta` with the same
 *    id): the AI SDK appends each delta to its part, so the message built is the same
 *    (visible-run.ts).
 * 3. A run's user messages are the visible user rows of the messages projection that its start
 *    and its resumes wrote (`runUserMessages`), in conversation order, before its answer. They
 *    are read from that projection, not from the run's events: the active run's turn (whose
 *    answer the resume stream sends) costs its user messages, however long the run is.
 * 4. What a resume from a checkpoint (or a retry) took back is left out, as the messages
 *    projection hides it (`rewindsTo`): the chunks of the run's events after that checkpoint,
 *    which ends a step (`finish-step`), so the stream stays whole. The rule is wire/rewound.ts
 *    (by visible-run.ts), which the resume stream of the active run and AG-UI follow too.
 */
export interface UserUIMessage {
  readonly id: string;
  readonly role: "user";
  /** `{ type: "text", text }` and the message's files (`{ type: "file", mediaType, url, filename? }`). */
  readonly parts: readonly UserUIPart[];
}

/** A user message's part, as the AI SDK's `TextUIPart` and `FileUIPart` are. */
export type UserUIPart = Extract<MessagePart, { type: "text" }> | UserFile;

export interface ChatTurn {
  readonly runId: string;
  /** The user messages that started the run or resumed it with a message, oldest first. */
  readonly messages: readonly UserUIMessage[];
  /**
   * The run's UI message stream chunks (AI SDK `UIMessageChunk`s, one assistant message with
   * id = the run id); null for the active run, which `GET /chat/:agent/:id/stream` streams.
   */
  readonly chunks: readonly UiChunk[] | null;
}

/** One run as a chat turn; `active`: the session's active run, whose chunks are left out. */
export function chatTurn(ledger: Ledger, sql: SqlPort, run: RunRecord, active: boolean): ChatTurn {
  const messages = runUserMessages(sql, run.runId).map(userUIMessage);
  if (active) return { runId: run.runId, messages, chunks: null };
  const chunks = visibleRun(ledger, run, createUiStreamProjector(), endsRun(sql, run.runId));
  return { runId: run.runId, messages, chunks };
}

/** A user message of the messages projection as the AI SDK's UIMessage. */
function userUIMessage(message: Message): UserUIMessage {
  const parts = message.parts.filter(
    (p): p is UserUIPart => p.type === "text" || p.type === "file",
  );
  return { id: message.id, role: "user", parts };
}
