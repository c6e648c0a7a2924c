import type { PriorMessageInput } from "../../agent/prior-messages.ts";
import { RunActiveError } from "../../agent/run-errors.ts";
import type { StartedRun } from "../../agent/session-runtime-options.ts";
import { BadRequestError, ConflictError, PayloadTooLargeError } from "../../errors/http-errors.ts";
import { getRun, latestRun, type RunRecord } from "../../ledger/projections/runs.ts";
import { stepToolCalls } from "../../ledger/projections/tool-calls.ts";
import { activeRun, isWaitingForClient, movesOnItsOwn } from "../../ledger/wait-reasons.ts";
import { endsRun } from "../../wire/replay-end.ts";
import { inRequestTerms } from "../../wire/start-source.ts";
import {
  CHAT_REQUEST_TERMS,
  type ChatCommand,
  chatCommand,
  chatRequestSchema,
} from "../../wire/ui-stream/chat-request.ts";
import { runHttpCommand } from "../command-route.ts";
import { LIMITS } from "../limits.ts";
import { activeRunUiStream, uiStream } from "../projected-sse.ts";
import { readBody } from "../read-json.ts";
import type { RouteTable, SessionHttpContext } from "../route.ts";
import {
  CHAT_STOP_REASON,
  CHAT_SUPERSEDED_REASON,
  type ChatOptions,
  chatStopPending,
  DEFAULT_CHAT_OPTIONS,
  type WatchContext,
  watchChatStream,
} from "./chat-presence.ts";
import {
  asksSame,
  type ChatTurnMatch,
  earlierInTurn,
  matchTurn,
  notLatestTurn,
  previousAnswer,
  replacedRun,
  turnFilesTooLarge,
  turnInProgress,
} from "./chat-turn.ts";

/**
 * The AI SDK chat surface: what `useChat` with `new DefaultChatTransport({ api: "/chat/<agent>" })`
 * sends, parsed into run commands (start, resume with decisions, start replacing the latest run),
 * answered with the UI message stream of the run. The Worker maps `POST /chat/:agent` (chat id in
 * the body) and `GET /chat/:agent/:id/stream` onto `.../agents/:agent/:id/chat`, so auth, hooks and
 * custom endpoints are the session routes' own. docs/delivery.md has the protocol.
 */

type Ran = { readonly runId: string; readonly after: number } | Response;

/** Runs the command (through the command layer), then where its run's stream starts. */
async function run(command: ChatCommand, request: Request, ctx: SessionHttpContext): Promise<Ran> {
  const { runtime, sql } = ctx;
  if (command.type === "answer") return answer(command, request, ctx);
  let replaces: string | undefined;
  let prior: PriorMessageInput[] = [];
  let ends: { run: string; reason: string } | undefined;
  const latest = latestRun(sql);
  const active = latest?.status === "running" || latest?.status === "waiting";
  const turn = latest && matchTurn(sql, latest, command.turn, command.message, command.files);
  if (command.type === "regenerate") {
    const named = command.messageId;
    if (named !== undefined && named !== latest?.runId && named !== command.turn.messageId)
      throw new ConflictError(
        "not_latest_run",
        `only the latest answer can be regenerated; message ${named.slice(0, 64)} is not the latest run's (${latest?.runId ?? "none"})`,
        { details: { latestRunId: latest?.runId ?? null } },
      );
    // The turn is the one the client's messages end at (chat-turn.ts): a regenerate asks that
    // run's own message again, an edit rewrites it; any other turn is refused, never replaced.
    if (latest && !(command.edit ? turn?.latest : turn?.same))
      throw notLatestTurn(command.turn, latest, command.edit);
    // A regenerate or an edit of this turn is still answering it (chat-turn.ts invariant 2);
    // `regenerate({ messageId })` naming that run's answer has seen it.
    if (
      latest &&
      named !== latest.runId &&
      movesOnItsOwn(latest) &&
      !chatStopPending(runtime, latest.runId) &&
      replacedRun(runtime.ledger, latest) !== undefined
    ) {
      if (turn?.same) return { runId: latest.runId, after: latest.startedSeq - 1 };
      throw turnInProgress(latest, command.edit);
    }
    // The client threw that answer away: a run still going is aborted by the start that
    // replaces it, in its append, so a refused start (a bad file, a hook) leaves it going.
    replaces = latest?.runId;
    if (latest) prior = earlierInTurn(sql, latest, command.turn);
  } else if (latest && answersAlready(latest, turn)) {
    // The same message after the same answer, already answered by the latest run: a client
    // retrying a POST whose response it lost. It gets that run's stream; nothing starts.
    return { runId: latest.runId, after: latest.startedSeq - 1 };
  } else if (latest && active && chatStopPending(runtime, latest.runId)) {
    // The client stopped that run (its stream was cut and not reopened) and sends on; the
    // start aborts it in its own append, so a refused start leaves it as it is.
    ends = { run: latest.runId, reason: CHAT_STOP_REASON };
  } else if (
    latest &&
    command.after !== undefined &&
    previousAnswer(sql, command.turn) === latest.runId &&
    movesOnItsOwn(latest)
  ) {
    // The client was shown that run's answer and sends a new message after it: it moved on
    // (useChat's stop() only cuts the fetch, which the server may not notice for seconds).
    // A run waiting for the client's answer is kept: that is the client's to answer.
    ends = { run: latest.runId, reason: CHAT_SUPERSEDED_REASON };
  }
  const input = {
    message: command.message,
    ...(command.files.length > 0 ? { files: command.files } : {}),
    ...(replaces ? { replaces } : {}),
    ...(prior.length > 0 ? { messages: prior } : {}),
    ...(ends ? { ends } : {}),
  };
  // A refusal names what the client sent (`messages.<i>.parts.<j>.url`), not the start input,
  // and a run that holds the session is freed by what this client can do (inChatTerms).
  let started: Awaited<ReturnType<typeof runHttpCommand>>;
  try {
    started = await inChatTerms(ctx, () =>
      inRequestTerms(CHAT_REQUEST_TERMS, command.source, () =>
        runHttpCommand("start", { input }, request, ctx),
      ),
    );
  } catch (error) {
    // The client's own body was within its limit: what passed the ledger's is the turn's
    // earlier messages with their files, which this request handed back (earlierInTurn).
    if (error instanceof PayloadTooLargeError && latest && prior.some((m) => m.files?.length))
      throw turnFilesTooLarge(latest);
    // The same POST twice at once (a retry while the first was in its hooks; also after a stop,
    // when the first ended the stopped run): the other one started the run this one asks for,
    // after this one looked. It gets that run's stream.
    const now = error instanceof RunActiveError && !replaces ? latestRun(sql) : undefined;
    const twin =
      now !== undefined &&
      now.runId !== latest?.runId &&
      asksSame(sql, now, command.message, command.files);
    if (twin) return { runId: now.runId, after: now.startedSeq - 1 };
    throw error;
  }
  if (started.type === "answered") return started.response;
  const { runId } = started.result as StartedRun;
  return { runId, after: (getRun(sql, runId)?.startedSeq ?? 1) - 1 };
}

/** What frees a run that waits for this chat's answers, in the AI SDK chat's terms. */
const CHAT_WAITS_FOR_CLIENT =
  "it waits for this chat's answers to its tool calls and does not finish by itself: answer them (addToolApprovalResponse or addToolOutput, then sendMessage()), regenerate that answer (regenerate()), or stop it (POST /agents/:agent/:id/stop, useAgentChat's stop) and send again";

/** A start's 409 `run_active` for a run waiting for the client, told in the chat's terms. */
async function inChatTerms<T>(ctx: SessionHttpContext, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const { runId, status } = (error instanceof RunActiveError && error.details) || {};
    const holder = typeof runId === "string" ? getRun(ctx.sql, runId) : undefined;
    if (!holder || !isWaitingForClient(holder)) throw error;
    const { session } = ctx.runtime.status();
    throw new RunActiveError(session, holder.runId, String(status), CHAT_WAITS_FOR_CLIENT);
  }
}

/**
 * Runs that ended without an answer to send again: a resent message after one of them starts a
 * new run (the client asks again), where after a run still going, waiting or completed it gets
 * that run's stream.
 */
const ENDED_UNANSWERED = new Set(["failed", "aborted", "interrupted"]);

/** The run answers (or answered) the client's message after the same answer: a retried POST's. */
function answersAlready(run: RunRecord, turn: ChatTurnMatch | undefined): boolean {
  return turn?.same === true && !ENDED_UNANSWERED.has(run.status);
}

const PENDING = new Set(["awaiting_approval", "outcome_unknown"]);

async function answer(
  command: Extract<ChatCommand, { type: "answer" }>,
  request: Request,
  ctx: SessionHttpContext,
): Promise<Ran> {
  const { runtime, sql } = ctx;
  const current = latestRun(sql);
  if (!current || current.runId !== command.messageId || current.status !== "waiting")
    throw new ConflictError(
      "no_pending_decisions",
      `message ${command.messageId.slice(0, 64)} has no tool call waiting for an answer${current ? ` (the latest run ${current.runId} is ${current.status})` : ""}; send a user message instead`,
    );
  const pending = new Set(
    stepToolCalls(sql, current.runId, current.step)
      .filter((c) => PENDING.has(c.status))
      .map((c) => c.callId),
  );
  const decisions = command.decisions.filter((d) => pending.has(d.callId));
  if (decisions.length === 0)
    throw new BadRequestError(
      "invalid_request",
      `the chat request answers none of the calls run ${current.runId} waits on (${[...pending].join(", ")}); answer them with addToolApprovalResponse or addToolOutput`,
    );
  const after = runtime.ledger.tail;
  const resumed = await runHttpCommand("resume", { approvals: decisions }, request, ctx);
  if (resumed.type === "answered") return resumed.response;
  return { runId: current.runId, after };
}

export const chatRoutes: RouteTable = {
  chat: {
    /** `POST /chat/:agent`: a message, a regenerate, or answers to the calls the run waits on. */
    POST: async (request, ctx) => {
      const body = await readBody(request.clone(), chatRequestSchema, "the chat request", {
        maxBytes: LIMITS.maxChatBodyBytes,
      });
      const ran = await run(chatCommand(body), request, ctx);
      if (ran instanceof Response) return ran;
      const { runId, after } = ran;
      const latest = latestRun(ctx.sql);
      const stillWaiting = latest !== undefined && isWaitingForClient(latest);
      const tail = ctx.runtime.ledger.tail;
      const probe = chatOptions(ctx).disconnectProbeMs;
      // Some calls are answered, others still wait: the stream carries the answers and ends.
      const response = stillWaiting
        ? uiStream(request, ctx, { after, skip: 0 }, (event) => event.seq >= tail, probe)
        : uiStream(request, ctx, { after, skip: 0 }, endsRun(ctx.sql, runId), probe);
      return watchChatStream(response, runId, watchContext(request, ctx));
    },
    /**
     * `GET /chat/:agent/:id/stream`: the active run (running, or waiting on a sub-agent or a
     * Workflow) from its start, through every segment, without what a rewind took back
     * (useChat's `resumeStream`; `activeRunUiStream`); 204 when no run is active.
     */
    GET: (request, ctx) => {
      const current = activeRun(ctx.sql);
      if (!current) return new Response(null, { status: 204 });
      const probe = chatOptions(ctx).disconnectProbeMs;
      const response = activeRunUiStream(request, ctx, current, probe);
      return watchChatStream(response, current.runId, watchContext(request, ctx));
    },
  },
};

function chatOptions(ctx: SessionHttpContext): ChatOptions {
  return { ...DEFAULT_CHAT_OPTIONS, ...ctx.chat };
}

function watchContext(request: Request, ctx: SessionHttpContext): WatchContext {
  return {
    sql: ctx.sql,
    clock: ctx.clock,
    options: chatOptions(ctx),
    runtime: ctx.runtime,
    // The stop is the `interrupt` command, for the caller of the cut stream (its hooks get a
    // request without a body, like a WebSocket frame's).
    stop: async (reason) => {
      const stop = new Request(request.url, { method: "POST", headers: request.headers });
      await runHttpCommand("interrupt", { reason }, stop, ctx);
    },
  };
}
