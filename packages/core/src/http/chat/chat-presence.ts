import type { SessionRuntime } from "../../agent/session-runtime.ts";
import type { Clock } from "../../clock.ts";
import { activeRun } from "../../ledger/wait-reasons.ts";
import type { SqlPort } from "../../sql/port.ts";

/** How the chat surface treats a client that goes away. */
export interface ChatOptions {
  /**
   * A chat stream cut before its run ended stops the run (a soft interrupt, resumable) unless
   * a chat stream of that run is open again within this many milliseconds. Default 5,000.
   *
   * Why: the AI SDK's `stop()` only aborts the fetch (ai v7 `AbstractChat.stop` aborts the
   * request's AbortController and sends nothing), so on the wire it looks exactly like a
   * client that went away. A reload reconnects at once (`resumeStream`, `GET .../stream`);
   * a stop does not. `Infinity` never stops on a disconnect (stop with `POST .../stop`).
   */
  readonly stopAfterDisconnectMs: number;
  /**
   * How often an idle chat stream (a run waiting on a sub-agent or a Workflow) writes an SSE
   * comment, in milliseconds. Default 1,000. A server learns that a client went away only when
   * a write to it fails (workerd cancels the response body then), so without these a `stop()`
   * during a long wait would go unnoticed until the run writes again.
   */
  readonly disconnectProbeMs: number;
}

export const DEFAULT_CHAT_OPTIONS: ChatOptions = {
  stopAfterDisconnectMs: 5_000,
  disconnectProbeMs: 1_000,
};

export const CHAT_STOP_REASON = "stopped by the chat client";

/** Why a run ends when the client sent a new message after the answer it was shown. */
export const CHAT_SUPERSEDED_REASON = "superseded: the chat client sent a new message";

interface Presence {
  /** Open chat streams per run. */
  readonly open: Map<string, number>;
  /** Runs whose chat streams were all cut, waiting out the grace period. */
  readonly stopping: Set<string>;
}

const presences = new WeakMap<SessionRuntime, Presence>();

function presenceOf(runtime: SessionRuntime): Presence {
  let presence = presences.get(runtime);
  if (!presence) {
    presence = { open: new Map(), stopping: new Set() };
    presences.set(runtime, presence);
  }
  return presence;
}

export interface WatchContext {
  readonly runtime: SessionRuntime;
  readonly sql: SqlPort;
  readonly clock: Clock;
  readonly options: ChatOptions;
  /** Interrupts the run (through the command layer) with `reason`. */
  readonly stop: (reason: string) => Promise<void>;
}

/**
 * Counts `response` as an open chat stream of `runId` while it is read. When the client
 * cancels it before it ended, and no other chat stream of the run is open
 * `stopAfterDisconnectMs` later, the run is interrupted if it still moves on its own (running,
 * or waiting on a sub-agent or a Workflow; never one waiting for the client's answer).
 * In-memory on purpose: a lost timer (the object was evicted) leaves the run going,
 * which is what a disconnect without stop means anyway.
 */
export function watchChatStream(response: Response, runId: string, ctx: WatchContext): Response {
  const body = response.body;
  if (!body) return response;
  const presence = presenceOf(ctx.runtime);
  presence.open.set(runId, (presence.open.get(runId) ?? 0) + 1);
  let counted = true;
  const release = () => {
    if (!counted) return;
    counted = false;
    const left = (presence.open.get(runId) ?? 1) - 1;
    if (left > 0) presence.open.set(runId, left);
    else presence.open.delete(runId);
  };
  const reader = body.getReader();
  const watched = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        release();
        controller.close();
      } else controller.enqueue(value);
    },
    cancel(reason) {
      release();
      void reader.cancel(reason).catch(() => undefined);
      scheduleStop(runId, ctx, presence);
    },
  });
  return new Response(watched, { status: response.status, headers: response.headers });
}

/**
 * True when every chat stream of `runId` was cut and none came back yet: the client stopped
 * it (or went away). A new message from that client then need not wait out the grace period.
 */
export function chatStopPending(runtime: SessionRuntime, runId: string): boolean {
  const presence = presences.get(runtime);
  return presence?.stopping.has(runId) === true && !presence.open.get(runId);
}

function scheduleStop(runId: string, ctx: WatchContext, presence: Presence): void {
  const { stopAfterDisconnectMs } = ctx.options;
  if (!Number.isFinite(stopAfterDisconnectMs)) return;
  presence.stopping.add(runId);
  void (async () => {
    await ctx.clock.sleep(stopAfterDisconnectMs);
    presence.stopping.delete(runId);
    if ((presence.open.get(runId) ?? 0) > 0) return;
    if (activeRun(ctx.sql)?.runId !== runId) return;
    await ctx.stop(CHAT_STOP_REASON);
  })().catch(() => undefined);
}
