import { awaitsDecision } from "../../agent/run-control.ts";
import type { StartedRun } from "../../agent/session-runtime-options.ts";
import { BadRequestError, ConflictError } from "../../errors/http-errors.ts";
import { decodeOffset } from "../../ledger/offset.ts";
import { conversationAt, type Message } from "../../ledger/projections/message-reads.ts";
import { latestRun } from "../../ledger/projections/runs.ts";
import { stepToolCalls } from "../../ledger/projections/tool-calls.ts";
import { activeRun } from "../../ledger/wait-reasons.ts";
import type { SqlPort } from "../../sql/port.ts";
import { sseStartOffset } from "../../streams/read/read-request.ts";
import { createAguiProjector } from "../../wire/agui/agui-projector.ts";
import { aguiResume } from "../../wire/agui/agui-resume.ts";
import {
  aguiUserTurn,
  RUN_AGENT_INPUT_TERMS,
  type RunAgentInput,
  runAgentInputSchema,
} from "../../wire/agui/run-agent-input.ts";
import { type ChunkPosition, parseChunkPosition } from "../../wire/chunk-projector.ts";
import { endsRun } from "../../wire/replay-end.ts";
import { rewoundFrom, withoutRewound } from "../../wire/rewound.ts";
import { SSE_HEADERS } from "../../wire/sse.ts";
import { inRequestTerms } from "../../wire/start-source.ts";
import { chatRoutes } from "../chat/chat-routes.ts";
import { renderCommandResponse, runHttpCommand } from "../command-route.ts";
import { bodyLimit, LIMITS } from "../limits.ts";
import { activeRunUiStream, projectedSse, uiStream } from "../projected-sse.ts";
import { readBody } from "../read-json.ts";
import type { RouteTable, SessionHttpContext } from "../route.ts";

/** `Last-Event-ID` wins over `?offset=` (an EventSource reconnect sends both; `sseStartOffset`). */
function position(request: Request, ctx: SessionHttpContext): ChunkPosition | null {
  const start = sseStartOffset(request);
  return start === null
    ? null
    : parseChunkPosition(start.value, ctx.runtime.ledger.tail, start.from);
}

/** The conversation after event `seq` (AG-UI MESSAGES_SNAPSHOT, see the projector). */
function messagesAt(ctx: SessionHttpContext): (seq: number) => Message[] {
  return (seq) => conversationAt(ctx.sql, seq, LIMITS.maxSnapshotMessages);
}

/**
 * The AG-UI stream from `from` (bound to run `runId` when given), without what a rewind written
 * before the response took back after `from` (wire/rewound.ts: the rule of the messages and
 * the UI streams); from a position inside a rewound part, its exact continuation.
 */
function agui(request: Request, ctx: SessionHttpContext, from: ChunkPosition, runId?: string) {
  const { ledger } = ctx.runtime;
  const rewound = rewoundFrom(ledger, from, ledger.tail);
  const projector = withoutRewound(
    createAguiProjector({
      threadId: ctx.runtime.status().session,
      messages: messagesAt(ctx),
      state: (seq) => ctx.runtime.state.at(seq).state,
    }),
    rewound,
  );
  return projectedSse(request, ctx, projector, from, {
    until: runId === undefined ? undefined : endsRun(ctx.sql, runId),
    bounded: runId === undefined,
    headers: SSE_HEADERS,
  });
}

/** HttpAgent sends the whole conversation, as useChat does: the same limit as a chat request. */
const aguiBodyLimit = { maxBytes: bodyLimit("agui") };

/**
 * Starts a run answering the RunAgentInput's user message (its text and files) through the
 * `start` command, for a route that answers with the run's stream; a refusal names the
 * RunAgentInput's fields (`messages.<i>.content.<j>.source.value`), not the start's. A Response
 * when a before hook answered instead; hooks get the request itself (its body unread) and
 * `ctx.input`.
 */
async function startRun(
  request: Request,
  ctx: SessionHttpContext,
  input: RunAgentInput,
): Promise<StartedRun | Response> {
  const { message, files, source } = aguiUserTurn(input);
  const start = { input: { message, ...(files.length > 0 ? { files } : {}) } };
  const outcome = await inRequestTerms(RUN_AGENT_INPUT_TERMS, source, () =>
    runHttpCommand("start", start, request, ctx),
  );
  // An after hook's replacement is for routes that answer with the JSON result; this one streams.
  return outcome.type === "answered" ? outcome.response : (outcome.result as StartedRun);
}

/**
 * A new AG-UI run carrying `resume[]`: the same ledger run continues (see agui-resume.ts),
 * through the `resume` command (or `start`, when the client abandons an interrupted run).
 */
async function resumeAgui(request: Request, ctx: SessionHttpContext, input: RunAgentInput) {
  const { runtime, sql } = ctx;
  const run = latestRun(sql);
  if (!run)
    throw new ConflictError(
      "no_run",
      "the RunAgentInput resumes an interrupt, but this thread has no run; send a user message",
    );
  const command = aguiResume(input, run.runId);
  if (command.type === "abandon") {
    const started = await startRun(request, ctx, input);
    if (started instanceof Response) return started;
    const { offset, runId } = started;
    return agui(request, ctx, { after: decodeOffset(offset, runtime.ledger.tail), skip: 0 }, runId);
  }
  const after = runtime.ledger.tail;
  let body: unknown = { mode: "continue" };
  if (command.type === "decisions") {
    const pending = run.status === "waiting" ? pendingCalls(sql, run.runId, run.step) : [];
    const answered = new Set(command.decisions.map((d) => d.callId));
    const open = pending.filter((id) => !answered.has(id));
    if (open.length > 0)
      throw new BadRequestError(
        "invalid_request",
        `the RunAgentInput's resume must answer every interrupt of run ${run.runId}; unanswered: ${open.join(", ")}`,
        { details: { pending } },
      );
    body = { approvals: command.decisions };
  }
  const resumed = await runHttpCommand("resume", body, request, ctx);
  if (resumed.type === "answered") return resumed.response;
  return agui(request, ctx, { after, skip: 0 }, run.runId);
}

function pendingCalls(sql: SqlPort, runId: string, step: number): string[] {
  return stepToolCalls(sql, runId, step)
    .filter(awaitsDecision)
    .map((c) => c.callId);
}

/** AG-UI and AI SDK UI message streams over the ledger, and the stop button. */
export const wireRoutes: RouteTable = {
  agui: {
    /** The ledger as AG-UI events, live; resumable by `Last-Event-ID` or `?offset=`. */
    GET: (request, ctx) => agui(request, ctx, position(request, ctx) ?? { after: 0, skip: 0 }),
    /** A `RunAgentInput` starts a run and streams it until it ends (HttpAgent). */
    POST: async (request, ctx) => {
      const input = await readBody(
        request.clone(),
        runAgentInputSchema,
        "the RunAgentInput",
        aguiBodyLimit,
      );
      if (input.resume !== undefined && input.resume.length > 0)
        return resumeAgui(request, ctx, input);
      const started = await startRun(request, ctx, input);
      if (started instanceof Response) return started;
      const from = { after: decodeOffset(started.offset, ctx.runtime.ledger.tail), skip: 0 };
      return agui(request, ctx, from, started.runId);
    },
  },
  "ui-stream": {
    /**
     * Resumes: with `?offset=`/`Last-Event-ID`, exactly after that chunk; without, the
     * active run (running, or waiting on a sub-agent or a Workflow) from its start, without
     * what a rewind took back (useChat `resume: true`; `activeRunUiStream`). 204 when nothing
     * is active.
     */
    GET: (request, ctx) => {
      const from = position(request, ctx);
      const run = activeRun(ctx.sql);
      if (from) {
        const next = ctx.runtime.ledger.read(from.after, 1)[0];
        if (!next && !run) return new Response(null, { status: 204 });
        return uiStream(request, ctx, from, endsRun(ctx.sql));
      }
      if (!run) return new Response(null, { status: 204 });
      return activeRunUiStream(request, ctx, run);
    },
    /** What useChat sends, as `POST /chat/:agent` (see http/chat/chat-routes.ts). */
    POST: chatRoutes.chat?.POST,
  },
  stop: {
    /** Stops the generation on the server (a soft interrupt; the run can resume). */
    POST: async (request, ctx) =>
      renderCommandResponse(
        await runHttpCommand("interrupt", { reason: "stopped by the client" }, request, ctx),
      ),
  },
};
