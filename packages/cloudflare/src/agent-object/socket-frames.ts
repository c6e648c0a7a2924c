/**
 * The events frames the WebSocket hub sends (websocket-hub.ts): each built once per ledger
 * position for every socket at it in one pass, and charged to each socket's credit.
 */
import type { Ledger, SocketCredit } from "@durable-agents/core";
import { eventsFrame, frameBytes } from "./websocket-protocol.ts";

/** A frame built once per flush for every socket at one position. */
export interface SharedFrame {
  readonly text: string;
  /** seq of its last event: where the socket is after it. */
  readonly last: number;
  /** Its UTF-8 length, counted against each socket's window. */
  readonly bytes: number;
}

/** What bounds a frame: events per frame (`live.maxEvents`) and the window (`live.wsWindowBytes`). */
export interface FrameLimits {
  readonly maxEvents: number;
  readonly windowBytes: number;
}

/**
 * The frame after `after`, built once per position for the sockets of one pass (`frames`
 * keeps them by position); undefined when the ledger has nothing after it.
 */
export function sharedFrame(
  ledger: Ledger,
  after: number,
  limits: FrameLimits,
  frames: Map<number, SharedFrame>,
): SharedFrame | undefined {
  const frame = frames.get(after) ?? buildFrame(ledger, after, limits);
  if (frame !== undefined) frames.set(after, frame);
  return frame;
}

function buildFrame(ledger: Ledger, after: number, limits: FrameLimits): SharedFrame | undefined {
  const events = ledger.read(after, limits.maxEvents);
  // A quarter of the window per frame, so a window holds a few frames and a catch-up is paced.
  const maxChars = limits.windowBytes / 4;
  const { text, last } = eventsFrame(events, ledger.tail, ledger.closed, after, maxChars);
  if (last === after) return undefined;
  return { text, last, bytes: frameBytes(text) };
}

/** `subscriber` was sent (or, inherited, may have been sent) `frame`: its credit and position. */
export function charge(
  subscriber: { after: number; readonly credit: SocketCredit },
  frame: SharedFrame,
): void {
  subscriber.credit.sent(frame.last, frame.bytes);
  subscriber.after = frame.last;
}
