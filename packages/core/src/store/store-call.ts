/**
 * One session's reads, its status compare-and-set and its commands, as plain calls: what
 * Worker code (`createStore` and the run handles of `agentRuns` in @durable-agents/cloudflare)
 * sends to a session object over DO RPC.
 *
 * Each call is a parser onto the same functions the HTTP routes use: `sessionStatus`
 * (`GET .../status`), `messagesPage` (`GET .../messages`), `checkpointsPage`
 * (`GET .../checkpoints`), `usageView` (`GET .../usage`), the ledger reader (`readRun`,
 * run-calls.ts), and for writes `dispatchCommand` (`command`; `compareAndSetStatus` picks
 * one). `canResume` is the resume's own decision, not committed. Nothing here reads or
 * writes a table of its own.
 */
import * as z from "zod/mini";
import { parsedInput } from "../agent/parsed-input.ts";
import { type CommandCall, dispatchCommand, isCommandName } from "../commands/dispatch.ts";
import { SESSION_COMMANDS } from "../commands/session-commands.ts";
import { answeredByHook, compareAndSetStatus } from "../commands/status-transition.ts";
import { BadRequestError, ConflictError, NotFoundError } from "../errors/http-errors.ts";
import { validate } from "../http/read-json.ts";
import { sessionStatus } from "../http/routes/read-routes.ts";
import {
  checkpointsPage,
  checkpointsPageQuery,
  messagesPage,
  messagesPageQuery,
} from "../http/session-pages.ts";
import { type PriceTable, usageView } from "../http/usage-view.ts";
import { getCheckpoint, latestCheckpoint } from "../ledger/projections/checkpoints.ts";
import { getRun, latestRun } from "../ledger/projections/runs.ts";
import { listUsageEntries, usageEntriesQuery } from "../ledger/projections/usage-entries.ts";
import type { LiveReadOptions } from "../streams/ledger-source.ts";
import { text } from "../validation/fields.ts";
import { readRun, runOutcome } from "./run-calls.ts";

const runId = z.optional(text(1, 200));
/** How long a read or an outcome may wait in the object for something to answer, in ms. */
const waitMs = z._default(z.number().check(z.int(), z.gte(0), z.lte(60_000)), 0);

/** The calls, each with its input schema; `op` names the call. */
const storeCall = z.discriminatedUnion("op", [
  z.strictObject({ op: z.literal("status") }),
  z.strictObject({ op: z.literal("setStatus"), input: z.unknown() }),
  z.strictObject({ op: z.literal("resumeCount"), runId }),
  z.strictObject({
    op: z.literal("messages"),
    query: z._default(z.strictObject(messagesPageQuery.shape), {}),
  }),
  z.strictObject({
    op: z.literal("checkpoint"),
    id: z
      .string()
      .check(z.regex(/^\d{1,15}$/, "a checkpoint id is the seq it was taken at: digits")),
  }),
  z.strictObject({ op: z.literal("latestCheckpoint"), runId }),
  z.strictObject({
    op: z.literal("checkpoints"),
    query: z._default(z.strictObject(checkpointsPageQuery.shape), {}),
  }),
  z.strictObject({ op: z.literal("usage") }),
  z.strictObject({ op: z.literal("usageEntries"), query: z._default(usageEntriesQuery, {}) }),
  /** A session command through dispatchCommand; `runId`: refused unless that run is the session's latest. */
  z.strictObject({
    op: z.literal("command"),
    name: text(0, 40),
    input: z.unknown(),
    runId,
  }),
  z.strictObject({ op: z.literal("canResume"), input: z.unknown(), runId }),
  z.strictObject({ op: z.literal("state") }),
  z.strictObject({
    op: z.literal("read"),
    runId,
    offset: z.optional(text(0, 40)),
    waitMs,
  }),
  z.strictObject({ op: z.literal("outcome"), runId, waitMs }),
]);

/** One store call, as Worker code sends it (the inputs of each query as their schema takes them). */
export type StoreCall = z.input<typeof storeCall>;

/** What a store call runs against: the session's command context, the app's prices, its live windows. */
export interface StoreCallContext extends CommandCall {
  readonly prices?: PriceTable;
  /** The server's live-read options (`createAgentServer({ live })`): windows of `read` and `outcome`. */
  readonly live?: LiveReadOptions;
}

/**
 * Runs one store call on the session. Bad input is a 400 `invalid_request` (nothing
 * changes); a missing checkpoint or run is a 404; `setStatus` throws what
 * `compareAndSetStatus` throws.
 */
export async function serveStoreCall(raw: unknown, ctx: StoreCallContext): Promise<unknown> {
  const call = validate(storeCall, raw, "the store call");
  const { sql } = ctx;
  switch (call.op) {
    case "status":
      return sessionStatus(ctx.runtime);
    case "setStatus":
      return compareAndSetStatus(call.input, ctx);
    case "resumeCount": {
      const run = call.runId === undefined ? latestRun(sql) : getRun(sql, call.runId);
      if (!run && call.runId !== undefined) throw unknownRun(call.runId);
      return { runId: run?.runId ?? null, resumeCount: run?.resumeCount ?? 0 };
    }
    case "messages":
      return messagesPage(sql, call.query);
    case "checkpoint": {
      const checkpoint = getCheckpoint(sql, Number(call.id));
      if (!checkpoint)
        throw new NotFoundError(
          "unknown_checkpoint",
          `no checkpoint ${call.id}; list them with checkpoints()`,
        );
      return checkpoint;
    }
    case "latestCheckpoint": {
      const run = call.runId === undefined ? latestRun(sql) : getRun(sql, call.runId);
      if (!run && call.runId !== undefined) throw unknownRun(call.runId);
      return (run && latestCheckpoint(sql, run.runId)) ?? null;
    }
    case "checkpoints":
      return checkpointsPage(sql, call.query);
    case "usage":
      return usageView(sql, ctx.prices);
    case "usageEntries":
      return listUsageEntries(sql, call.query);
    case "command": {
      if (!isCommandName(call.name))
        throw new BadRequestError(
          "invalid_request",
          `"${call.name}" is not a session command; the commands: ${Object.keys(SESSION_COMMANDS).join(", ")}`,
        );
      const bound = call.runId;
      const outcome = await dispatchCommand(
        call.name,
        call.input === undefined ? {} : call.input,
        bound === undefined ? ctx : { ...ctx, precondition: () => requireCurrent(ctx, bound) },
      );
      if (outcome.type === "answered") throw await answeredByHook(call.name, outcome.response);
      return outcome.result;
    }
    case "canResume": {
      const resume = SESSION_COMMANDS.resume;
      const request = validate(
        resume.input,
        call.input === undefined ? {} : call.input,
        resume.what,
      );
      try {
        if (call.runId !== undefined) requireCurrent(ctx, call.runId);
      } catch (error) {
        if (error instanceof ConflictError)
          return { canResume: false, code: error.code, reason: error.message };
        throw error;
      }
      return ctx.runtime[parsedInput].canResume(request);
    }
    case "state":
      // One synchronous read: the status and the state are of the same moment.
      return { ...sessionStatus(ctx.runtime), ...stateOf(ctx) };
    case "read":
      return readRun(ctx, call);
    case "outcome":
      return runOutcome(ctx, call);
    default:
      throw new BadRequestError("invalid_request", "unknown store call");
  }
}

function stateOf(ctx: StoreCallContext) {
  const { state, version } = ctx.runtime.state.current();
  return { state, stateVersion: version };
}

/**
 * 409 `run_not_current` unless `runId` is the session's latest run: a handle bound to a run
 * never interrupts, aborts or resumes a later one.
 */
function requireCurrent(ctx: StoreCallContext, runId: string): void {
  const current = latestRun(ctx.sql)?.runId ?? null;
  if (current === runId) return;
  if (!getRun(ctx.sql, runId)) throw unknownRun(runId);
  throw new ConflictError(
    "run_not_current",
    `run ${runId.slice(0, 64)} is no longer the current run of session ${ctx.runtime.status().session} (${current} is); act on the current one through getHandle`,
    { details: { runId, currentRunId: current } },
  );
}

function unknownRun(runId: string): NotFoundError {
  return new NotFoundError("unknown_run", `session has no run ${runId.slice(0, 64)}`);
}
