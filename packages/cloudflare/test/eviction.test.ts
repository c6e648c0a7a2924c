import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { routeRequest } from "@durable-agents/cloudflare";
import { type LedgerEvent, mintSessionToken } from "@durable-agents/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { LongLeaseSession } from "./fixture/long-lease.ts";
import { probe } from "./fixture/probe.ts";
import { BASE, isTerminal, type SessionHandle, session, transcript } from "./support/session.ts";

afterEach(() => probe.reset());

async function run(s: SessionHandle): Promise<LedgerEvent[]> {
  await s.post("runs", { input: { message: "go" } });
  await s.waitFor(isTerminal, 20_000);
  return s.events();
}

async function notesRows(s: SessionHandle): Promise<number> {
  return runInDurableObject(s.stub(), (_instance, state) => {
    return state.storage.sql.exec("SELECT count(*) AS n FROM test_notes").one().n as number;
  });
}

/**
 * A Durable Object is evicted or restarted at any moment of a run. Here the
 * object is aborted at a boundary (what a deploy or a crash does to in-flight
 * work), then evicted while it waits for its redrive (what the runtime does to
 * an idle object). A fresh instance must finish the run from the ledger alone.
 */
describe("eviction in the middle of a run", () => {
  let golden: unknown[];

  beforeAll(async () => {
    golden = transcript(await run(session("probe")));
  });

  for (const point of ["after-step-commit", "after-tool-started"] as const) {
    it(`completes with the fault-free transcript when the object dies at ${point}`, async () => {
      const s = session("probe");
      probe.crashAt(point);
      await s.post("runs", { input: { message: "go" } });
      while (probe.executions(`fault:${point}`) === 0) await new Promise((r) => setTimeout(r, 10));
      // A fresh instance comes up for a read, finds the run mid-way, and is evicted while idle.
      expect((await s.status()).status).toBe("running");
      await evictDurableObject(s.stub());
      await s.waitFor(isTerminal, 20_000);
      const events = await s.events();
      expect(events.at(-1)?.kind).toBe("run.completed");
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(transcript(events)).toEqual(golden);
      expect(await notesRows(s)).toBe(1);
    });
  }
});

/**
 * G3: a tool's `ctx.transaction` writes commit with its `tool.completed` or not at all. Step 1
 * runs `slow_echo` (held at its gate) and `save_note`; `save_note` runs and is held at
 * `before-tool-commit`, a status read (held by the output gate until earlier writes are
 * durable) lets anything it wrote reach disk, then the object is aborted. The redriven
 * `save_note` runs again: one note row, not two.
 */
describe("a crash after a tool ran, before its result commits", () => {
  it("leaves nothing of the lost execution's ctx.transaction: one note row", async () => {
    const golden = transcript(await run(session("probe")));
    const s = session("probe");
    probe.close("slow_echo");
    probe.pauseAt("before-tool-commit");
    await s.post("runs", { input: { message: "go" } });
    while (probe.executions("fault:before-tool-commit") === 0)
      await new Promise((r) => setTimeout(r, 10));
    expect((await s.status()).status).toBe("running");
    await runInDurableObject(s.stub(), (_instance, state) =>
      state.abort("injected crash: save_note ran, its result not committed"),
    ).catch(() => undefined);
    probe.open("slow_echo");
    const events = await s.waitFor(isTerminal, 20_000).then(() => s.events());
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(transcript(events)).toEqual(golden);
    expect(await notesRows(s)).toBe(1);
  });
});

/** The run's due-work rows under a lease: what a dead instance leaves held. */
interface LeasedRow {
  readonly id: number;
  readonly kind: string;
  readonly lease_until: number;
}

function leasedRows(stub: DurableObjectStub): Promise<LeasedRow[]> {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec("SELECT id, kind, lease_until FROM due_work WHERE lease_until IS NOT NULL")
      .toArray()
      .map((row) => row as unknown as LeasedRow),
  );
}

/**
 * G2: a fresh instance releases the dead instance's leases and redrives at once. Leases here
 * last an hour (LongLeaseSession), so none runs out during the test: the run goes on only if
 * the fresh instance released the lease its predecessor died holding.
 */
describe("a fresh instance after a crash mid-run", () => {
  it("releases the dead instance's lease on the run's step and finishes the run", async () => {
    // A generated session name's shape (s<time>_<n>, n = 0 is never session()'s): transcript() hides it.
    const name = `s${Date.now()}_0`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "probe", session: name });
    const call = (action: string, init: RequestInit = {}) =>
      routeRequest(
        new Request(`${BASE}/agents/probe/${name}/${action}`, {
          ...init,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        }),
        { ...env, AGENTS: env.LONG_LEASE },
        undefined,
        { server: LongLeaseSession },
      );
    const events = async () => (await (await call("events?offset=-1")).json()) as LedgerEvent[];
    // A new stub each time: one that reached the aborted instance stays broken.
    const stub = () => env.LONG_LEASE.get(env.LONG_LEASE.idFromName(`probe/${name}`));
    const golden = transcript(await run(session("probe")));

    probe.pauseAt("after-step-commit");
    const started = await call("runs", {
      method: "POST",
      body: JSON.stringify({ input: { message: "go" } }),
    });
    expect(started.status).toBe(202);
    while (probe.executions("fault:after-step-commit") === 0)
      await new Promise((r) => setTimeout(r, 10));
    // Held between steps, under its claim of the run's step (a status read flushes the commit).
    expect(((await (await call("status")).json()) as { status: string }).status).toBe("running");
    const [held, ...others] = await leasedRows(stub());
    expect(others).toEqual([]);
    expect(held?.kind).toBe("run.step");
    await runInDurableObject(stub(), (_instance, state) =>
      state.abort("injected crash between steps"),
    ).catch(() => undefined);

    // A fresh instance comes up for a read: the dead one's lease (an hour left) no longer holds
    // the run's step. Released, the row is claimed anew (a later lease) or already done (gone).
    expect((await call("status")).status).toBe(200);
    const after = (await leasedRows(stub())).find((row) => row.id === held?.id);
    expect(after?.lease_until).not.toBe(held?.lease_until);
    if (after) expect(after.lease_until).toBeGreaterThan(held?.lease_until ?? 0);
    for (let i = 0; i < 2_000 && !(await events()).some(isTerminal); i++)
      await new Promise((r) => setTimeout(r, 10));
    const ledger = await events();
    expect(ledger.at(-1)?.kind).toBe("run.completed");
    expect(ledger.map((e) => e.seq)).toEqual(ledger.map((_, i) => i + 1));
    expect(transcript(ledger)).toEqual(golden);
  });
});

declare global {
  namespace Cloudflare {
    interface Env {
      LONG_LEASE: DurableObjectNamespace;
    }
  }
}
