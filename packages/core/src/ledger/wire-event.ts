import type { LedgerEvent } from "./events.ts";
import { encodeOffset } from "./offset.ts";

/** An event as served to clients (`GET .../events`, the WebSocket): the stored event plus its offset. */
export type WireEvent = LedgerEvent & { offset: string };

export function toWire(event: LedgerEvent): WireEvent {
  return { ...event, offset: encodeOffset(event.seq) };
}
