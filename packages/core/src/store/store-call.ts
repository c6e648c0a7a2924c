/**
 * One session's reads and its status compare-and-set, as plain calls: what the Worker store
 * (`createStore` in @durable-agents/cloudflare) sends to a session object over DO RPC.
 *
 * Each call is a parser onto the same functions the HTTP routes use: `sessionStatus`
 * (`GET .../status`), `messagesPage` (`GET .../messages`), `checkpointsPage`
 * (`GET .../checkpoints`), `usageView` (`GET .../usage`), and `compareAndSetStatus`, which
 * goes through the command layer. Nothing here reads or writes a table of its own.
 */
import * as z from "zod/mini";
import type { CommandCall } from "../commands/dispatch.ts";
import { compareAndSetStatus } from "../commands/status-transition.ts";
import { BadRequestError, NotFoundError } from "../errors/http-errors.ts";
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
import { text } from "../validation/fields.ts";

const runId = z.optional(text(1, 200));

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
]);

/** One store call, as Worker code sends it (the inputs of each query as their schema takes them). */
export type StoreCall = z.input<typeof storeCall>;

/** What a store call runs against: the session's command context, and the app's prices. */
export interface StoreCallContext extends CommandCall {
  readonly prices?: PriceTable;
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
    default:
      throw new BadRequestError("invalid_request", "unknown store call");
  }
}

function unknownRun(runId: string): NotFoundError {
  return new NotFoundError("unknown_run", `session has no run ${runId.slice(0, 64)}`);
}
