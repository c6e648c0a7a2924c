/**
 * POST: append, close, or append-and-close (PROTOCOL.md 5.2, 5.2.1, 5.3). The request is
 * read into an `AppendInput`, decided and committed by `applyAppends` (through the stream's
 * group commit when it has one), and answered by `appendResponse`. A Worker that reads the
 * request itself and reaches the object by RPC uses the same three pieces.
 */
import type { StreamContext } from "../stream-context.ts";
import { applyAppends } from "./append-batch.ts";
import {
  type AppendInput,
  type AppendReply,
  appendResponse,
  readAppendRequest,
} from "./append-input.ts";

export async function handleAppend(request: Request, ctx: StreamContext): Promise<Response> {
  const input = await readAppendRequest(request, ctx.config.maxAppendBytes);
  return appendResponse(await appendTo(ctx, input));
}

/** Decide and commit one append: through the stream's group commit, or alone. */
export async function appendTo(ctx: StreamContext, input: AppendInput): Promise<AppendReply> {
  if (ctx.appends !== undefined) return ctx.appends.append(ctx, input);
  const [outcome] = await applyAppends(ctx, [input]);
  if (outcome === undefined || !outcome.ok) throw outcome?.error;
  return outcome.reply;
}
