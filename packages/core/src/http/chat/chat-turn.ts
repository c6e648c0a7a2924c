import type { PriorMessageInput } from "../../agent/prior-messages.ts";
import { toUserFileInput, toUserFiles, type UserFileInput } from "../../agent/user-files.ts";
import { ConflictError, PayloadTooLargeError } from "../../errors/http-errors.ts";
import { type Ledger, MAX_EVENT_BYTES } from "../../ledger/ledger.ts";
import { listMessagesBefore, runUserMessages } from "../../ledger/projections/message-reads.ts";
import { getRun, type RunRecord, shownRunsBefore } from "../../ledger/projections/runs.ts";
import type { SqlPort } from "../../sql/port.ts";
import { type ChatTurnRef, MAX_ANSWERS_BEFORE } from "../../wire/ui-stream/chat-request.ts";
import { LIMITS } from "../limits.ts";

/**
 * Which run a chat request's turn is, for the requests that act on a turn the client names by
 * its messages (ChatTurnRef): a regenerate, an edit, a retried send.
 *
 * Invariants:
 * 1. A request acts on the latest run only if its last user message is that run's: one of the
 *    run's user messages by id (a conversation restored from `GET .../chat-history` has the
 *    server's ids), or, by place, the answer the client saw before it is the shown run just
 *    before the latest (none before it: the latest is the first shown run). Anything else is
 *    an older turn, or a conversation the client has not seen (another tab's turn). The answer
 *    the client saw before it is the nearest assistant message whose id is a run of this
 *    session (previousAnswer): one only the client has (a greeting, a notice) is no turn.
 * 2. A turn that a regenerate or an edit is still answering again (its latest run replaced an
 *    earlier answer and still moves on its own, its stream not cut) is that request's: another
 *    regenerate or edit of it gets that run's stream if it asks the same (a retried POST, a
 *    second tab asking the same), else 409 `turn_in_progress` (turnInProgress). The client's
 *    messages cannot say which answer of the turn it saw (ai v7 cuts them to end at the user
 *    message, which keeps its id through an edit), so while the turn is being answered again a
 *    different request is one that has not seen that answer.
 * 3. Nothing here writes: the route refuses (409) or acts through the command layer.
 */
export interface ChatTurnMatch {
  /** The latest run answered the client's last user message (invariant 1). */
  readonly latest: boolean;
  /** And that user message says what the client's says (text and files). */
  readonly same: boolean;
}

/** Whether `turn` is the turn of the `latest` run, and whether its user message is `message` + `files`. */
export function matchTurn(
  sql: SqlPort,
  latest: RunRecord,
  turn: ChatTurnRef,
  message: string,
  files: readonly UserFileInput[],
): ChatTurnMatch {
  const users = runUserMessages(sql, latest.runId);
  const byId = users.some((u) => u.id === turn.messageId);
  const before = byId ? undefined : shownRunsBefore(sql, latest.startedSeq, 1)[0];
  const isLatest = byId || (before?.runId ?? NO_RUN) === previousAnswer(sql, turn);
  return { latest: isLatest, same: isLatest && asksSame(sql, latest, message, files) };
}

/** Whether `run`'s (last) user message is `message` + `files`, as the ledger records them. */
export function asksSame(
  sql: SqlPort,
  run: RunRecord,
  message: string,
  files: readonly UserFileInput[],
): boolean {
  const asked = runUserMessages(sql, run.runId).at(-1)?.parts;
  if (asked === undefined) return false;
  // Files as the ledger records them (toUserFiles), where an unchecked one cannot be: then it differs.
  return (
    JSON.stringify(asked) ===
    JSON.stringify([{ type: "text", text: message }, ...toUserFiles(files)])
  );
}

/** `previousAnswer` when the client saw no run before its last user message. */
const NO_RUN = "";
/** `previousAnswer` when it cannot be told (every assistant message read is the client's own). */
const UNKNOWN = "\u0000unknown";

/**
 * The run whose answer the client saw before its last user message: the nearest assistant
 * message there whose id is a run of this session (invariant 1); NO_RUN when none is and the
 * client sent them all, UNKNOWN when more were cut off than were read.
 */
export function previousAnswer(sql: SqlPort, turn: ChatTurnRef): string {
  for (const id of turn.answersBefore) if (getRun(sql, id)) return id;
  return turn.answersBefore.length < MAX_ANSWERS_BEFORE ? NO_RUN : UNKNOWN;
}

/**
 * 409 `not_latest_run`: a regenerate or an edit whose turn is not the latest run's.
 * `edit`: `sendMessage({ text, messageId })` of an older user message.
 */
export function notLatestTurn(turn: ChatTurnRef, latest: RunRecord, edit: boolean): ConflictError {
  const id = turn.messageId.slice(0, 64);
  const what = edit
    ? `message ${id} is not the user message of the latest turn (run ${latest.runId}), so editing it would replace a turn the client did not edit`
    : `the messages sent end at user message ${id}, which run ${latest.runId} (the latest) did not answer: an older turn, or the session moved on (another tab)`;
  return new ConflictError(
    "not_latest_run",
    `only the latest turn can be regenerated or edited; ${what}. Reload the conversation (GET .../chat-history); to go back to an older message, fork the session at a checkpoint before it (POST .../fork {"checkpoint"}: a new session, whose id is the new chat id) and send the message there`,
    { details: { latestRunId: latest.runId } },
  );
}

/** The run `latest` replaced (`run.started.replaces`): it answers a regenerate or an edit. */
export function replacedRun(ledger: Ledger, latest: RunRecord): string | undefined {
  const started = ledger.read(latest.startedSeq - 1, 1)[0];
  return started?.kind === "run.started" ? started.data.replaces : undefined;
}

/**
 * 409 `turn_in_progress`: a regenerate or an edit of a turn that another regenerate or edit is
 * still answering (chat-turn.ts invariant 2).
 */
export function turnInProgress(latest: RunRecord, edit: boolean): ConflictError {
  return new ConflictError(
    "turn_in_progress",
    `run ${latest.runId} is still answering this turn again (another regenerate or edit of it, from this chat or another tab), so ${edit ? "this edit" : "this regenerate"} would replace an answer the client has not seen. Stop that run first (stop(), or POST .../stop), or wait for it to finish and reload the conversation (GET .../chat-history)`,
    { details: { latestRunId: latest.runId } },
  );
}

/**
 * What run `latest` holds before the user message a regenerate or an edit of it acts on (the
 * one `turn` names by id, else its last): its earlier user messages and its answers between
 * them (a run resumed with a message), as a start's `messages` (a user message with its files,
 * the newest LIMITS.maxPriorMessages), so the run that replaces it keeps them, and the model
 * sees them, as the client still shows them.
 */
export function earlierInTurn(
  sql: SqlPort,
  latest: RunRecord,
  turn: ChatTurnRef,
): PriorMessageInput[] {
  const users = runUserMessages(sql, latest.runId);
  const target = users.find((u) => u.id === turn.messageId) ?? users.at(-1);
  const first = users[0];
  if (!target || !first || target === first) return [];
  const prior: PriorMessageInput[] = [];
  for (const m of listMessagesBefore(sql, target.index, LIMITS.maxPriorMessages)) {
    if (m.runId !== latest.runId || m.index < first.index || m.role === "tool") continue;
    const text = m.parts.map((p) => (p.type === "text" ? p.text : "")).join("");
    const files = m.parts.flatMap((p) => (p.type === "file" ? [toUserFileInput(p)] : []));
    // A user message of files with blank text (POST runs takes " " with files) is handed back
    // too; a prior message's `content` is 1 character at least (priorMessagesInput), as a
    // start's own message is.
    if (text.trim() !== "" || files.length > 0)
      prior.push({
        role: m.role,
        content: text === "" ? " " : text.slice(0, LIMITS.maxMessageChars),
        ...(files.length > 0 ? { files } : {}),
      });
  }
  return prior;
}

/**
 * 413 `payload_too_large`: a regenerate or an edit of run `latest` whose user messages' files
 * together pass the ledger's per-event limit. Each message came in its own event (the start,
 * a resume with a message) within it; the run that replaces the answer holds them all in its
 * one `run.started` (earlierInTurn), so the turn cannot be answered again as it stands.
 */
export function turnFilesTooLarge(latest: RunRecord): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `the new run's run.started event, which holds the user messages of this turn (run ${latest.runId}) with their files (a regenerate or an edit hands them back),`,
    MAX_EVENT_BYTES,
    `the files are within their limits each, but not together in one event. Send a new message instead (the answer stays, and the model sees the whole conversation with its files), or fork the session at a checkpoint of the turn before the message whose files to leave out (GET .../checkpoints?runId=${latest.runId}, then POST .../fork {"checkpoint"}: a new session, whose id is the new chat id) and regenerate there`,
    { latestRunId: latest.runId },
  );
}
