import { env } from "cloudflare:test";
import type { LedgerEvent } from "@durable-agents/core";
import { it } from "vitest";
import { probe } from "../../packages/cloudflare/test/fixture/probe.ts";

/**
 * Crash recovery: the object is aborted between step 1 and step 2 (after step 1's
 * commit, before the model call); the time measured is from the last event
 * before the crash to the first event of the resumed run (step 2 starting).
 */
const SAMPLES = Number((env as Record<string, unknown>).BENCH_SAMPLES ?? 10);

async function request(
  ns: DurableObjectNamespace,
  session: string,
  path: string,
  init?: RequestInit,
) {
  const stub = ns.get(ns.idFromName(`faulty/${session}`));
  return stub.fetch(`http://bench/agents/faulty/${session}/${path}`, init);
}

async function events(ns: DurableObjectNamespace, session: string): Promise<LedgerEvent[]> {
  for (;;) {
    const response = await request(ns, session, "events?offset=-1").catch(() => undefined);
    if (response?.ok) {
      const body = (await response.json().catch(() => undefined)) as LedgerEvent[] | undefined;
      if (body) return body;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function sample(ns: DurableObjectNamespace, session: string): Promise<number> {
  probe.crashSessionAt(session, "before-model", 2);
  await request(ns, session, "runs", {
    method: "POST",
    body: JSON.stringify({ input: { message: "go" } }),
  });
  for (;;) {
    const all = await events(ns, session);
    const waiting = all.find((e) => e.kind === "run.completed" || e.kind === "run.waiting");
    if (waiting) {
      const before = all.find((e) => e.kind === "step.completed" && e.data.step === 1);
      const after = all.find((e) => e.kind === "step.started" && e.data.step === 2);
      if (!before || !after) throw new Error(`session ${session} has no step boundary`);
      return after.ts - before.ts;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

it("crash-to-resume latency", async () => {
  const ns = {
    ours: env.AGENTS as DurableObjectNamespace,
    peer: env.LEASE_AGENTS as DurableObjectNamespace,
  };
  const results: Record<string, number[]> = { ours: [], peer: [] };
  for (let i = 0; i < SAMPLES; i++) {
    for (const variant of ["ours", "peer"] as const) {
      results[variant]!.push(await sample(ns[variant], `${variant}-${i}-${Date.now()}`));
    }
  }
  const row = (name: string, xs: number[]) =>
    `${name.padEnd(46)} | ${String(quantile(xs, 0.5)).padStart(8)} | ${String(quantile(xs, 0.99)).padStart(8)}`;
  console.log(
    [
      `crash → first event of the resumed run (ms), ${SAMPLES} samples each, real workerd`,
      `${"".padEnd(46)} |      p50 |      p99`,
      row("durable-agents (redrive on restart)", results.ours!),
      row("peer: lease-only redrive (3 s lease)", results.peer!),
    ].join("\n"),
  );
});

declare global {
  namespace Cloudflare {
    interface Env {
      AGENTS: DurableObjectNamespace;
      LEASE_AGENTS: DurableObjectNamespace;
    }
  }
}
