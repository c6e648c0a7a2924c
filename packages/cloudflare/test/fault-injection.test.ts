import type { LedgerEvent, Message } from "@durable-agents/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { probe } from "./fixture/probe.ts";
import {
  isTerminal,
  normalized,
  type SessionHandle,
  session,
  transcript,
} from "./support/session.ts";

/**
 * G2 and G3, by fault injection in real workerd. For every boundary of a
 * three-step run with parallel pure, idempotent and irreversible tools, the
 * object is aborted (a crash: in-flight work is lost, memory is gone) the nth
 * time the run reaches it. A fresh object must finish the run from the ledger.
 */
const BOUNDARIES: [point: string, hits: number][] = [
  ["before-model", 3],
  ["mid-stream", 3],
  ["after-tool-started", 5],
  ["before-tool-commit", 5],
  ["after-step-commit", 2],
];

afterEach(() => probe.reset());

interface Outcome {
  events: (LedgerEvent & { offset: string })[];
  messages: Message[];
}

async function runToRest(s: SessionHandle): Promise<Outcome> {
  await s.post("runs", { input: { message: "go" } });
  await s.waitFor(isTerminal, 30_000);
  return { events: await s.events(), messages: await s.messages() };
}

/** The ledger with what a redrive legitimately adds removed: streamed deltas and repeated step starts. */
function essential(events: readonly LedgerEvent[]): unknown[] {
  return transcript(
    events.filter(
      (e) => e.kind !== "model.delta" && !(e.kind === "step.started" && e.data.attempt > 1),
    ),
  );
}

function effectCounts(events: readonly LedgerEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) {
    if (e.kind !== "tool.started") continue;
    counts.set(
      `${e.data.name}`,
      probe.executions(`effect:${e.data.name}:${e.data.idempotencyKey}`),
    );
  }
  return counts;
}

describe("fault injection at every step boundary", () => {
  let golden: Outcome;

  beforeAll(async () => {
    golden = await runToRest(session("faulty"));
    expect(golden.events.at(-1)?.kind).toBe("run.completed");
  });

  for (const [point, hits] of BOUNDARIES) {
    for (let nth = 1; nth <= hits; nth++) {
      it(`crash at ${point} #${nth}`, async () => {
        const s = session("faulty");
        probe.crashAt(point, nth);
        let outcome = await runToRest(s);
        expect(probe.executions(`fault:${point}`)).toBe(1);
        const { events } = outcome;
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));

        const last = events.at(-1);
        if (last?.kind === "run.waiting") {
          // Only an irreversible call may leave the outcome unknown; a human then settles it.
          const unknown = events.filter((e) => e.kind === "tool.outcome_unknown");
          expect(unknown.map((e) => (e.data as { name: string }).name)).toEqual(["charge"]);
          const started = events.find((e) => e.kind === "tool.started" && e.data.name === "charge");
          const key = (started?.data as { idempotencyKey: string } | undefined)?.idempotencyKey;
          const ran = probe.executions(`effect:charge:${key}`);
          expect(ran).toBeLessThanOrEqual(1);
          const decision =
            ran === 1 ? { result: { charged: 3 }, approved: true } : { approved: true };
          const callId = (unknown[0]?.data as { callId: string } | undefined)?.callId;
          expect((await s.post("resume", { approvals: [{ callId, ...decision }] })).status).toBe(
            202,
          );
          await s.waitFor((e) => e.kind === "run.completed", 30_000);
          outcome = { events: await s.events(), messages: await s.messages() };
          expect(probe.executions(`effect:charge:${key}`)).toBe(1);
        } else {
          expect(last?.kind).toBe("run.completed");
          expect(essential(events)).toEqual(essential(golden.events));
        }
        expect(normalized(outcome.messages)).toEqual(normalized(golden.messages));
        for (const [tool, count] of effectCounts(outcome.events)) {
          if (tool === "charge") expect(count).toBe(1);
          else expect(count).toBeGreaterThanOrEqual(1);
        }
        const completed = outcome.events
          .filter((e) => e.kind === "tool.completed")
          .map((e) => e.data.callId);
        expect(new Set(completed).size).toBe(completed.length);
      });
    }
  }
});
