/**
 * Compare-and-set of a session's status (`expected → next`) for Worker code: a precondition
 * on the one command that makes each move, never a write of its own.
 *
 * Invariants:
 * 1. Every legal move is one row of STATUS_TRANSITIONS, carried out by an existing session
 *    command through `dispatchCommand` (its scope, hooks and rules apply unchanged).
 * 2. A move that no row allows, from any status in `expected`, is refused before anything
 *    is read: 400 `illegal_status_transition`.
 * 3. The status is compared after the command's hooks, in the same synchronous step as the
 *    command's own decision (`CommandCall.precondition`), so in a Durable Object nothing can
 *    move the session in between: it is `expected` when the command decides, or 409
 *    `status_conflict` and nothing changes.
 */
import * as z from "zod/mini";
import { ABORTABLE, ACTIVE, type SessionStatus } from "../agent/session-runtime-options.ts";
import type { DurableAgentsError } from "../errors/base.ts";
import { errorFromWire } from "../errors/from-wire.ts";
import { BadRequestError, ConflictError } from "../errors/http-errors.ts";
import { validate } from "../http/read-json.ts";
import { reasonText } from "../validation/fields.ts";
import type { CommandName } from "./command.ts";
import { type CommandCall, dispatchCommand } from "./dispatch.ts";

const SESSION_STATUSES = [
  "idle",
  "running",
  "waiting",
  "completed",
  "failed",
  "interrupted",
  "aborted",
] as const satisfies readonly SessionStatus[];

/** The statuses a compare-and-set can move a session to (`closed`: the session's `closed` flag). */
export type TargetStatus = "running" | "interrupted" | "aborted" | "closed";

interface Move {
  readonly from: ReadonlySet<SessionStatus>;
  readonly command: CommandName;
  readonly input: (reason: string | undefined) => Record<string, unknown>;
}

const withReason = (reason: string | undefined) => (reason === undefined ? {} : { reason });

/**
 * The legal moves, and the command that makes each. `interrupted` from `running` is a
 * request: the run stops at its next boundary (the result still says `running`).
 * `running` resumes a waiting or interrupted run as it was (`continue`; a run waiting on
 * approvals needs `resume` with decisions instead) and retries a failed one from its
 * latest checkpoint. A new run from `idle` or a finished one needs a message: `start`.
 */
export const STATUS_TRANSITIONS: Readonly<Record<TargetStatus, readonly Move[]>> = {
  interrupted: [{ from: ACTIVE, command: "interrupt", input: withReason }],
  aborted: [{ from: ABORTABLE, command: "abort", input: withReason }],
  running: [
    {
      from: new Set(["waiting", "interrupted"]),
      command: "resume",
      input: () => ({ mode: "continue" }),
    },
    { from: new Set(["failed"]), command: "retry", input: () => ({ mode: "from_checkpoint" }) },
  ],
  closed: [
    {
      from: new Set(SESSION_STATUSES.filter((s) => !ACTIVE.has(s))),
      command: "close",
      input: withReason,
    },
  ],
};

const sessionStatus = z.enum(SESSION_STATUSES);

/** `{expected, next, reason?}`: `expected` is one status or any of several. */
export const statusTransitionInput = z.strictObject({
  expected: z.union([
    sessionStatus,
    z.array(sessionStatus).check(z.minLength(1), z.maxLength(SESSION_STATUSES.length)),
  ]),
  next: z.enum(["running", "interrupted", "aborted", "closed"]),
  /** Recorded with an interrupt, abort or close. */
  reason: z.optional(reasonText),
});
export type StatusTransitionInput = z.input<typeof statusTransitionInput>;

/** What a compare-and-set did: the status it found, the command it ran, and the status after. */
export interface StatusTransitionResult {
  readonly previous: SessionStatus;
  readonly command: CommandName;
  /** The command's result (a StatusView for every command in STATUS_TRANSITIONS). */
  readonly result: unknown;
}

function moveFrom(status: SessionStatus, next: TargetStatus): Move | undefined {
  return STATUS_TRANSITIONS[next].find((m) => m.from.has(status));
}

/**
 * Moves the session from one of `expected` to `next` through the command that makes that
 * move (STATUS_TRANSITIONS), as `call.caller`. Throws 400 `illegal_status_transition` (no
 * such move from some expected status), 409 `status_conflict` (details: `expected`, the
 * `status` found, `runId`, `closed`), or the command's own typed errors.
 */
export async function compareAndSetStatus(
  raw: unknown,
  call: CommandCall,
): Promise<StatusTransitionResult> {
  const input = validate(statusTransitionInput, raw, "the status compare-and-set");
  const expected: SessionStatus[] = Array.isArray(input.expected)
    ? input.expected
    : [input.expected];
  const illegal = expected.filter((s) => !moveFrom(s, input.next));
  if (illegal.length > 0) {
    const legal = STATUS_TRANSITIONS[input.next].flatMap((m) => [...m.from]);
    throw new BadRequestError(
      "illegal_status_transition",
      `a session cannot move from ${illegal.join(" or ")} to ${input.next}; it can from: ${legal.join(", ")}${input.next === "running" ? " (start a new run with the start command)" : ""}`,
      { details: { from: illegal, to: input.next, legalFrom: legal } },
    );
  }
  const conflict = (found: { status: SessionStatus; runId: string | null; closed: boolean }) =>
    new ConflictError(
      "status_conflict",
      `session ${call.runtime.status().session} is ${found.closed ? "closed" : found.status}, not ${expected.join(" or ")}; read its status again and decide anew`,
      { details: { expected, ...found } },
    );
  const before = call.runtime.status();
  const move =
    expected.includes(before.status) && !before.closed && moveFrom(before.status, input.next);
  if (!move) throw conflict(before);
  const outcome = await dispatchCommand(move.command, move.input(input.reason), {
    ...call,
    // Checked again after the hooks, in the step where the command decides (invariant 3).
    precondition: () => {
      const now = call.runtime.status();
      if (now.closed || now.status !== before.status) throw conflict(now);
    },
  });
  if (outcome.type === "answered") throw await answeredByHook(move.command, outcome.response);
  return { previous: before.status, command: move.command, result: outcome.result };
}

/**
 * A before hook's answer to a command, for callers that have no Response to hand on (Worker
 * code), as a typed error. A refusal (status 400 or more) keeps the app's status, and its
 * `code`, `message` and `details` when the body is our error JSON (`{ error: { code, message } }`),
 * else `answered_by_hook` with the body's text; any other answer is 409 `answered_by_hook`.
 * `details` always carry `command` and `hookStatus`.
 */
export async function answeredByHook(
  command: CommandName,
  response: Response,
): Promise<DurableAgentsError> {
  const hookStatus = response.status;
  const text = (await response.text().catch(() => "")).slice(0, 1000);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const answered = `a before hook answered the ${command} command (status ${hookStatus}) instead of running it${text ? `: ${text}` : ""}; the session did not move`;
  return errorFromWire(
    hookStatus >= 400 ? hookStatus : 409,
    hookStatus >= 400 ? body : undefined,
    { code: "answered_by_hook", message: answered },
    { command, hookStatus },
  );
}
