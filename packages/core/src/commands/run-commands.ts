import * as z from "zod/mini";
import { runModelOptionsSchema } from "../agent/model-options.ts";
import { parsedInput } from "../agent/parsed-input.ts";
import type { ResumeRequest } from "../agent/run-control.ts";
import { ACTIVE } from "../agent/session-runtime-options.ts";
import { userFilesSchema } from "../agent/user-files.ts";
import { ConflictError } from "../errors/http-errors.ts";
import { LIMITS } from "../http/limits.ts";
import { MAX_ID_CHARS, sessionIdInput } from "../http/path-segment.ts";
import type { JsonValue } from "../ledger/events.ts";
import { closedObject, jsonValue, reasonText, text } from "../validation/fields.ts";
import { defineCommand } from "./command.ts";

const json: z.ZodMiniType<unknown> = jsonValue;
/** The body of an interrupt, an abort or a close. */
export const reasonInput = closedObject("an interrupt, an abort or a close", {
  reason: z.optional(reasonText),
});

/**
 * Earlier conversation a client hands in: messages of the user or the assistant, a user message
 * with its files (as a start's `files`: agent/prior-messages.ts).
 */
export const priorMessagesInput = z
  .array(
    closedObject("a message", {
      role: z.enum(["user", "assistant"]),
      content: text(1, LIMITS.maxMessageChars),
      files: z.optional(userFilesSchema),
    }).check(
      z.refine((m) => m.role === "user" || !m.files?.length, {
        message: "files belong to user messages; an assistant message is text",
        path: ["files"],
      }),
    ),
  )
  .check(z.maxLength(LIMITS.maxPriorMessages));

export const startInput = closedObject("a start", {
  input: closedObject("a start's input", {
    message: text(1, LIMITS.maxMessageChars),
    /** The latest run, answered again by this one (a chat's regenerate): see SessionRuntime.start. */
    replaces: z.optional(text(1, 200)),
    /**
     * The active run, if it is still running or waiting, aborted in this start's own append
     * (`reason` is the abort's): either it ends and this run starts, or neither. See SessionRuntime.start.
     */
    ends: z.optional(closedObject('"ends"', { run: text(1, 200), reason: z.optional(reasonText) })),
    /** Images and files after the text: AI SDK `ImagePart`/`FilePart`s with data or https URLs (user-files.ts). */
    files: z.optional(userFilesSchema),
    /** The application state to start from (checked against the agent's stateSchema). */
    state: z.optional(json),
    /** Conversation placed before `message`. */
    messages: z.optional(priorMessagesInput),
  }),
  /** This run's model settings, over the agent's `modelOptions`; no credential headers (model-options.ts). */
  modelOptions: z.optional(runModelOptionsSchema),
  /** What drives this run (default: the agent's `executor`, else "alarm"); recorded in `run.started`. */
  executor: z.optional(z.enum(["alarm", "workflow"])),
  /** The app's own data about the run: hooks and onComplete see it; it is in `run.started`. */
  metadata: z.optional(
    z.record(text(1, 200), json).check(
      z.refine((m) => Object.keys(m).length <= LIMITS.maxMetadataKeys, {
        message: `at most ${LIMITS.maxMetadataKeys} metadata keys`,
      }),
    ),
  ),
});

/** The start command's body (`POST .../runs`), as a caller writes it. */
export type StartBody = z.input<typeof startInput>;

export const decisionInput = closedObject("a decision", {
  callId: text(1, 200),
  approved: z.boolean(),
  args: z.optional(json),
  /** The call's output, recorded as its result (a client-side tool's, or a settled unknown outcome). */
  result: z.optional(json),
  reason: z.optional(reasonText),
}).check(
  z.refine((d) => d.approved || d.result === undefined, {
    path: ["result"],
    message:
      "a denied call takes no result: send approved: true with the call's output, or approved: false with a reason",
  }),
);

export const resumeInput = closedObject("a resume", {
  mode: z.optional(z.enum(["continue", "with_message", "from_checkpoint"])),
  message: z.optional(text(1, LIMITS.maxMessageChars)),
  /** Messages added before `message` (modes `with_message` and `from_checkpoint`). */
  messages: z.optional(priorMessagesInput),
  checkpoint: z.optional(text(0, 40)),
  approvals: z.optional(z.array(decisionInput).check(z.maxLength(100))),
}).check(
  // Decisions continue the run where it waits; a message (which cancels the waiting calls) or a
  // checkpoint would be dropped beside them, so the two are separate resumes.
  z.refine(
    (b) =>
      !b.approvals?.length ||
      ((b.mode === undefined || b.mode === "continue") &&
        b.message === undefined &&
        b.messages === undefined &&
        b.checkpoint === undefined),
    {
      path: ["approvals"],
      message:
        'approvals answer the waiting calls and continue the run: send them alone (mode "continue" at most), and a message or a checkpoint in a resume of its own',
    },
  ),
  // Each field read by its mode only, never dropped: a message without a mode is "with_message".
  z.refine((b) => b.mode !== "continue" || b.message === undefined, {
    path: ["message"],
    message:
      'mode "continue" adds no message; send it with mode "with_message" (or "from_checkpoint")',
  }),
  z.refine((b) => b.mode !== "continue" || !b.messages?.length, {
    path: ["messages"],
    message:
      'mode "continue" adds no messages; send them with mode "with_message" (or "from_checkpoint")',
  }),
  z.refine((b) => b.checkpoint === undefined || b.mode === "from_checkpoint", {
    path: ["checkpoint"],
    message: 'a "checkpoint" is read by mode "from_checkpoint" only; send that mode with it',
  }),
  // What a mode needs, checked with the input (before the run's state is read).
  z.refine((b) => b.mode !== "with_message" || b.message !== undefined || !!b.messages?.length, {
    path: ["message"],
    message: 'mode "with_message" needs a "message" or "messages"',
  }),
  z.refine((b) => b.mode !== "from_checkpoint" || !!b.checkpoint, {
    path: ["checkpoint"],
    message: 'mode "from_checkpoint" needs a "checkpoint" id; list them with GET .../checkpoints',
  }),
);

/** The resume command's body (`POST .../resume`): a mode, a message, a checkpoint or decisions. */
export type ResumeBody = z.input<typeof resumeInput>;

export const retryInput = closedObject("a retry", {
  mode: z._default(z.enum(["from_checkpoint", "from_start"]), "from_checkpoint"),
  checkpoint: z.optional(text(0, 40)),
}).check(
  z.refine((b) => b.checkpoint === undefined || b.mode === "from_checkpoint", {
    path: ["checkpoint"],
    message: 'mode "from_start" takes no "checkpoint"; retry from it with mode "from_checkpoint"',
  }),
);

export const forkInput = closedObject("a fork", {
  checkpoint: text(1, 40),
  session: z.optional(sessionIdInput),
});

/** `POST .../runs` `{input:{message, files?}, modelOptions?}` → 202 `{runId, status, offset, session, agent}`; 409 `run_active`. */
export const startCommand = defineCommand({
  name: "start",
  scope: "write",
  input: startInput,
  what: "the run start body",
  hooks: ["beforeStart", "afterStart"],
  http: { method: "POST", action: "runs" },
  /** A start that replaces or ends the run still going aborts it: the abort's rules apply too. */
  implies({ input }, { runtime }) {
    const { status, runId } = runtime.status();
    if (!ACTIVE.has(status) || runId === null) return undefined;
    if (input.replaces !== runId && input.ends?.run !== runId) return undefined;
    const reason = input.ends?.reason;
    return { name: "abort", input: reason === undefined ? {} : { reason } };
  },
  async run({ runtime }, body) {
    const metadata = body.metadata as Record<string, JsonValue> | undefined;
    const started = await runtime.start({
      ...body.input,
      ...(body.modelOptions ? { modelOptions: body.modelOptions } : {}),
      ...(body.executor ? { executor: body.executor } : {}),
      ...(metadata ? { metadata } : {}),
    });
    const { session, agent } = runtime.status();
    return { status: 202, result: { ...started, session, agent } };
  },
});

/** `POST .../interrupt` `{reason?}` → 202 StatusView; 409 `no_active_run`. */
export const interruptCommand = defineCommand({
  name: "interrupt",
  scope: "write",
  input: reasonInput,
  what: "the interrupt body",
  http: { method: "POST", action: "interrupt" },
  run: async ({ runtime }, body) => ({ status: 202, result: await runtime.interrupt(body.reason) }),
});

/** `POST .../abort` `{reason?}` → 202 StatusView; 409 `no_active_run`. */
export const abortCommand = defineCommand({
  name: "abort",
  scope: "write",
  input: reasonInput,
  what: "the abort body",
  http: { method: "POST", action: "abort" },
  run: async ({ runtime }, body) => ({ status: 202, result: await runtime.abort(body.reason) }),
});

/** `POST .../close` `{reason?}` → 200 StatusView; 409 `run_active`. */
export const closeCommand = defineCommand({
  name: "close",
  scope: "write",
  input: reasonInput,
  what: "the close body",
  http: { method: "POST", action: "close" },
  run: async ({ runtime }, body) => ({ status: 200, result: await runtime.close(body.reason) }),
});

/** `POST .../resume` (also approvals) → 202 StatusView; 409 when there is nothing to resume. */
export const resumeCommand = defineCommand({
  name: "resume",
  scope: "write",
  input: resumeInput,
  what: "the resume body",
  hooks: ["beforeResume", "afterResume"],
  http: { method: "POST", action: "resume" },
  run: async ({ runtime }, body) => ({
    status: 202,
    result: await runtime[parsedInput].resume(body as ResumeRequest),
  }),
});

/** `POST .../retry` `{mode?, checkpoint?}` → 202 StatusView; 409 when the run did not fail. */
export const retryCommand = defineCommand({
  name: "retry",
  scope: "write",
  input: retryInput,
  what: "the retry body",
  hooks: ["beforeRetry", "afterRetry"],
  http: { method: "POST", action: "retry" },
  run: async ({ runtime }, body) => ({
    status: 202,
    result: await runtime[parsedInput].retry(body),
  }),
});

/**
 * The id of a fork the caller did not name: `<source>-fork-<8 hex>`, the source cut so the
 * whole stays a session id (at most MAX_ID_CHARS), so every route can reach it.
 */
function serverNamedFork(source: string): string {
  const suffix = `-fork-${crypto.randomUUID().slice(0, 8)}`;
  return `${source.slice(0, MAX_ID_CHARS - suffix.length)}${suffix}`;
}

/**
 * `POST .../fork` `{checkpoint, session?}` → 201 `{agent, session, forkedFrom, events}`. Needs
 * `write` on the source (the route's scope) and on a named target (`writesSession`); 403
 * `wrong_session` when the caller may not write the target.
 */
export const forkCommand = defineCommand({
  name: "fork",
  scope: "write",
  input: forkInput,
  what: "the fork body",
  http: { method: "POST", action: "fork" },
  // The target is written: authorized on it too (dispatch.ts); a server-named one is new.
  writesSession: (body) => body.session,
  // A server-named fork is new, so only a named one can be the source itself.
  refuses: (body, { runtime }) =>
    body.session === runtime.status().session
      ? {
          path: "session",
          message: "a fork needs a session id other than its source's; leave it out for a new one",
        }
      : undefined,
  async run({ runtime, peers }, body) {
    const { session, agent } = runtime.status();
    const target = body.session ?? serverNamedFork(session);
    const events = runtime.forkPrefix(body.checkpoint);
    if (!peers)
      throw new ConflictError("fork_unavailable", "this server cannot reach other sessions");
    await peers.importFork(
      target,
      events,
      `forked from ${session} at checkpoint ${body.checkpoint}`,
    );
    return {
      status: 201,
      result: {
        agent,
        session: target,
        forkedFrom: { session, checkpoint: body.checkpoint },
        events: events.length,
      },
    };
  },
});
