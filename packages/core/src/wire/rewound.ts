import type { LedgerEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { rewindsTo } from "../ledger/projections/messages.ts";
import type { ChunkPosition, ChunkProjector } from "./chunk-projector.ts";

/**
 * Which events a rewind took back, for the streams that replay a run as its conversation shows
 * it: the resume stream of the active run and `GET .../chat-history` (ui-stream/visible-run.ts),
 * and AG-UI (`GET`/`POST .../agui`, http/routes/wire-routes.ts).
 *
 * The rule is the messages projection's (`rewindsTo`, ledger/projections/messages.ts): a
 * `run.resumed` of run r at seq s with a checkpoint c (a resume from a checkpoint, a retry)
 * takes back r's events c < seq < s. The ledger keeps them; no projector maps them (only its
 * `skip` counts their tokens: the run's usage is every model call's, as GET .../usage sums it),
 * so what a stream sends after the rewind is what a run without the rewound part sends. A
 * checkpoint ends a step, so what is left is a well-formed run.
 *
 * Only the rewinds written up to `through` (the backlog a response replays) that took back
 * nothing before seq `after` (checkpoint >= `after`) count: an event appended later is never
 * hidden, so a client connected live across a rewind keeps what it was sent, and a stream from
 * a position inside a rewound part (`after`, a client that was sent some of it) is its exact
 * continuation (docs/delivery.md, "A rewind and the streams").
 */
export function rewoundEvents(
  ledger: Ledger,
  after: number,
  through: number,
): (event: LedgerEvent) => boolean {
  const rewinds: { runId: string | null; from: number; to: number }[] = [];
  // The rewinds, newest first, each read back from the one after it: the range is walked once.
  for (
    let resumed = ledger.latest("run.resumed", after, through + 1);
    resumed !== undefined;
    resumed = ledger.latest("run.resumed", after, resumed.seq)
  ) {
    const checkpoint = rewindsTo(resumed);
    if (checkpoint !== undefined && checkpoint >= after)
      rewinds.push({ runId: resumed.runId, from: checkpoint, to: resumed.seq });
  }
  if (rewinds.length === 0) return () => false;
  return (event) =>
    rewinds.some((r) => r.runId === event.runId && event.seq > r.from && event.seq < r.to);
}

/**
 * `rewoundEvents` for a stream that starts at `from` (`?offset=`, `Last-Event-ID`): the client
 * was sent event `from.after`, and with `skip` the first chunks of the event after it, so only
 * the rewinds that took back nothing up to that event count. From a position before a rewound
 * part (a reader of the resume stream, which left it out, cut and resumed by its last id) the
 * rest of the run as its conversation shows it; from one inside it, its exact continuation.
 */
export function rewoundFrom(
  ledger: Ledger,
  from: ChunkPosition,
  through: number,
): (event: LedgerEvent) => boolean {
  return rewoundEvents(ledger, from.skip > 0 ? from.after + 1 : from.after, through);
}

/**
 * `projector` without the events `hidden` holds for: they give no chunk and open or close
 * nothing, only its `skip` takes them in (the run's usage counts every model call).
 */
export function withoutRewound<C>(
  projector: ChunkProjector<C>,
  hidden: (event: LedgerEvent) => boolean,
): ChunkProjector<C> {
  return {
    map(event) {
      if (!hidden(event)) return projector.map(event);
      projector.skip?.(event);
      return [];
    },
  };
}
