import { evictDurableObject } from "cloudflare:test";
import type { LedgerEvent } from "@durable-agents/core";
import { afterAll, describe, expect, it } from "vitest";
import { probe } from "./fixture/probe.ts";
import { type SessionHandle, session } from "./support/session.ts";

/**
 * The soak: 200 sessions of the fault agent, each with random faults — object
 * crashes at any boundary, stalls (slow steps), failing steps that the pump
 * retries after backoff (late continuations, by alarm), evictions, and a
 * live SSE reader that drops and reconnects. Every session must come to rest
 * (terminal, or waiting for a human on an irreversible call), with the
 * ledger invariants intact and the reader having seen each event exactly once.
 */
const SESSIONS = 200;
const CONCURRENCY = 20;
const DEADLINE_MS = 180_000;
const POINTS: [string, number][] = [
  ["before-model", 3],
  ["mid-stream", 3],
  ["after-tool-started", 5],
  ["before-tool-commit", 5],
  ["after-step-commit", 2],
];
const REST = new Set([
  "run.completed",
  "run.failed",
  "run.aborted",
  "run.interrupted",
  "run.waiting",
]);

type WireEvent = LedgerEvent & { offset: string };

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

const counts = new Map<string, number>();
const bump = (what: string) => counts.set(what, (counts.get(what) ?? 0) + 1);

/** Follows the ledger over SSE, dropping the connection after a few events, up to `drops` times. */
async function follow(
  s: SessionHandle,
  random: () => number,
  drops: number,
  until: number,
): Promise<WireEvent[]> {
  const seen: WireEvent[] = [];
  let offset = "-1";
  while (Date.now() < until) {
    const response = await s
      .fetch(s.url("events", `offset=${offset}&live=sse`))
      .catch(() => undefined);
    if (!response?.ok || !response.body) {
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const dropAfter = drops > 0 ? 1 + Math.floor(random() * 8) : Number.POSITIVE_INFINITY;
    let buffer = "";
    let received = 0;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut = buffer.indexOf("\n\n");
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          cut = buffer.indexOf("\n\n");
          if (!block.startsWith("event: data")) continue;
          const line = block.slice(block.indexOf("\ndata:") + 6);
          const batch = JSON.parse(line.startsWith(" ") ? line.slice(1) : line) as WireEvent[];
          for (const event of batch) {
            seen.push(event);
            offset = event.offset;
            received++;
          }
          if (batch.some((e) => REST.has(e.kind)) && !batch.at(-1)?.kind.startsWith("model")) {
            const last = seen.at(-1);
            if (last && REST.has(last.kind)) return seen;
          }
        }
        if (received >= dropAfter) {
          drops--;
          bump("client drops");
          break;
        }
      }
    } catch {
      bump("streams cut by a crash");
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
  return seen;
}

async function soakOne(index: number, until: number): Promise<void> {
  const random = rng(index + 7);
  const s = session("faulty", `soak${index}`);
  const roll = random();
  if (roll < 0.45) {
    const [point, hits] = POINTS[Math.floor(random() * POINTS.length)]!;
    probe.crashSessionAt(s.session, point, 1 + Math.floor(random() * hits));
    bump("crashes injected");
  } else if (roll < 0.55) {
    const [point] = POINTS[Math.floor(random() * POINTS.length)]!;
    if (point !== "mid-stream") {
      probe.delaySessionAt(s.session, point, 50 + Math.floor(random() * 400));
      bump("stalls injected");
    }
  } else if (roll < 0.65) {
    // A step that fails is retried after backoff: its continuation comes late, by alarm.
    const [point, hits] = POINTS[Math.floor(random() * POINTS.length)]!;
    if (point !== "mid-stream") {
      probe.throwSessionAt(s.session, point, 1 + Math.floor(random() * hits));
      bump("step failures injected (retried late)");
    }
  }
  const reader = follow(s, random, 1 + Math.floor(random() * 3), until);
  const start = await s.post("runs", { input: { message: `soak ${index}` } });
  expect(start.status).toBe(202);
  if (roll >= 0.65 && roll < 0.85) {
    await new Promise((r) => setTimeout(r, Math.floor(random() * 30)));
    await Promise.race([
      evictDurableObject(s.stub()).catch(() => undefined),
      new Promise((r) => setTimeout(r, 5000)),
    ]);
    bump("evictions injected");
  }
  const seen = await reader;
  const events = await s.events();
  const last = events.at(-1);
  expect(last && REST.has(last.kind), `session ${s.session} ended at ${last?.kind}`).toBe(true);
  if (last?.kind === "run.waiting") {
    expect(events.filter((e) => e.kind === "tool.outcome_unknown").map((e) => e.data.name)).toEqual(
      ["charge"],
    );
    bump("paused for a human (irreversible outcome unknown)");
  } else {
    expect(last?.kind).toBe("run.completed");
  }
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  const completed = events.filter((e) => e.kind === "tool.completed").map((e) => e.data.callId);
  expect(new Set(completed).size).toBe(completed.length);
  for (const e of events) {
    if (e.kind === "tool.started" && e.data.name === "charge") {
      expect(probe.executions(`effect:charge:${e.data.idempotencyKey}`)).toBeLessThanOrEqual(1);
    }
  }
  expect(
    seen.map((e) => e.seq),
    `reader of ${s.session}`,
  ).toEqual(events.map((e) => e.seq));
  if (probe.executions(`fault:${s.session}`) > 0) bump("faults survived");
  bump("sessions at rest");
}

describe("soak", () => {
  afterAll(() => {
    const table = [...counts.entries()].map(([what, n]) => `  ${what.padEnd(52)} ${n}`).join("\n");
    console.log(`soak: ${SESSIONS} sessions\n${table}`);
  });

  it(
    `${SESSIONS} sessions with random faults all come to rest with the invariants intact`,
    async () => {
      const until = Date.now() + DEADLINE_MS;
      for (let base = 0; base < SESSIONS; base += CONCURRENCY) {
        const batch = Array.from({ length: Math.min(CONCURRENCY, SESSIONS - base) }, (_, i) =>
          soakOne(base + i, until),
        );
        await Promise.all(batch);
      }
      expect(counts.get("sessions at rest")).toBe(SESSIONS);
    },
    DEADLINE_MS + 60_000,
  );
});
