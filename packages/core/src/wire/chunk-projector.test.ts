import { describe, expect, it } from "vitest";
import { mathAgent } from "../../test/fixtures.ts";
import type { LedgerEvent } from "../ledger/events.ts";
import { createTestSession } from "../testing/test-session.ts";
import { type ChunkProjector, warm } from "./chunk-projector.ts";

/** A projector that keeps what it was fed. */
function feeding(): ChunkProjector<never> & { fed: LedgerEvent[] } {
  const fed: LedgerEvent[] = [];
  return {
    fed,
    map(event) {
      fed.push(event);
      return [];
    },
  };
}

async function twoRuns() {
  const s = createTestSession(mathAgent);
  for (const message of ["What is 2+3?", "And 4+5?"]) {
    await s.runtime.start({ message });
    await s.drain();
  }
  const events = s.runtime.ledger.read(0);
  const starts = events.filter((e) => e.kind === "run.started").map((e) => e.seq);
  return { s, events, starts };
}

describe("warm: the projector fed the run a reader stands in", () => {
  it("feeds the run that holds `after`, from its start through `after`", async () => {
    const { s, events, starts } = await twoRuns();
    const second = starts[1] ?? 0;
    const after = second + 3;
    const projector = feeding();
    warm(projector, s.runtime.ledger, s.sql, after);
    expect(projector.fed.map((e) => e.seq)).toEqual(
      events.filter((e) => e.seq >= second && e.seq <= after).map((e) => e.seq),
    );
  });

  it("feeds nothing at a run's start, though `after` is the last event of the run before", async () => {
    const { s, events, starts } = await twoRuns();
    const second = starts[1] ?? 0;
    expect(events.find((e) => e.seq === second - 1)?.runId).toBeTruthy();
    const projector = feeding();
    warm(projector, s.runtime.ledger, s.sql, second - 1);
    expect(projector.fed).toEqual([]);
  });

  it("feeds the whole run when `after` ends it and no run has started since", async () => {
    const { s, events, starts } = await twoRuns();
    const projector = feeding();
    warm(projector, s.runtime.ledger, s.sql, s.runtime.ledger.tail);
    expect(projector.fed.map((e) => e.seq)).toEqual(
      events.filter((e) => e.seq >= (starts[1] ?? 0)).map((e) => e.seq),
    );
  });
});
