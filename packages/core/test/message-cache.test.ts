import { describe, expect, it } from "vitest";
import { IdlePromptCaches } from "../src/agent/idle-prompt-caches.ts";
import { MessageCache } from "../src/agent/message-cache.ts";
import { changedMessages, latestRun, listMessages } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { countLoads, mathAgent } from "./fixtures.ts";

const SYSTEM = "system";

describe("the prompt cache after going back to a checkpoint", () => {
  it("changedMessages reports hidden messages as empty, so the cache drops them", async () => {
    const s = createTestSession(mathAgent);
    await s.runtime.start({ message: "What is 2+3?" });
    await s.drain();
    const run = latestRun(s.sql);
    const tail = s.runtime.ledger.tail;
    // What a resume from the run's start writes: every message after the checkpoint is hidden.
    s.runtime.ledger.append([
      {
        kind: "run.resumed",
        runId: run?.runId ?? null,
        data: { mode: "from_checkpoint", checkpoint: 1 },
      },
    ]);
    expect(listMessages(s.sql, 0, 50).map((m) => m.role)).toEqual(["user"]);
    const changed = changedMessages(s.sql, tail);
    expect(changed.length).toBeGreaterThan(0);
    for (const message of changed) expect(message.parts).toEqual([]);
  });
});

async function sessionWith(runs: number, chars: number) {
  const s = createTestSession(mathAgent);
  for (let i = 0; i < runs; i++) {
    await s.runtime.start({ message: `${i}: ${"x".repeat(chars)} What is 2+3?` });
    await s.drain();
  }
  return s;
}

type Session = Awaited<ReturnType<typeof sessionWith>>;

/** What a fresh object reads: the prompt a cache must give, dropped or not. */
function freshPrompt(s: Session) {
  return new MessageCache(s.sql).prompt(SYSTEM, s.runtime.ledger.tail);
}

describe("idle prompt caches share one budget, least recently used dropped first", () => {
  it("keeps idle caches while they fit, drops the least recently used, never a running one", async () => {
    const sessions = [
      await sessionWith(2, 1_000),
      await sessionWith(2, 1_000),
      await sessionWith(2, 1_000),
      await sessionWith(2, 1_000),
    ];
    const one = new MessageCache(sessions[0]!.sql);
    one.prompt(SYSTEM, sessions[0]!.runtime.ledger.tail);
    const size = one.bytes;
    expect(size).toBeGreaterThan(2_000);
    // Room for two idle caches, not three.
    const idle = new IdlePromptCaches(2 * size + size / 2);
    const [a, b, c, d] = sessions.map((s) => new MessageCache(s.sql, { idle })) as [
      MessageCache,
      MessageCache,
      MessageCache,
      MessageCache,
    ];
    const use = (cache: MessageCache, s: Session) => cache.prompt(SYSTEM, s.runtime.ledger.tail);
    for (const [k, cache] of [a, b, c, d].entries()) {
      use(cache, sessions[k]!);
      expect(cache.bytes).toBe(size);
    }
    // d runs (prompt, no release) throughout; it was idle once and is in use again.
    d.release();
    use(d, sessions[3]!);
    a.release();
    b.release();
    expect(idle.bytes).toBe(2 * size);
    expect(idle.count).toBe(2);
    expect([a.bytes, b.bytes]).toEqual([size, size]);
    // a is used again: b is now the least recently used.
    use(a, sessions[0]!);
    expect(idle.bytes).toBe(size);
    a.release();
    c.release();
    expect(b.bytes).toBe(0);
    expect([a.bytes, c.bytes, d.bytes]).toEqual([size, size, size]);
    expect(idle.bytes).toBe(2 * size);
    expect(idle.count).toBe(2);
    // More releases than room, over and over: the running one is never dropped.
    for (let round = 0; round < 3; round++) {
      for (const [k, cache] of [a, b, c].entries()) {
        use(cache, sessions[k]!);
        cache.release();
        expect(idle.bytes).toBeLessThanOrEqual(idle.budgetBytes);
      }
      expect(d.bytes).toBe(size);
    }
    // Each one, dropped or kept, gives what a fresh read gives.
    for (const [k, cache] of [a, b, c, d].entries())
      expect(use(cache, sessions[k]!)).toEqual(freshPrompt(sessions[k]!));
    expect(idle.bytes).toBe(0);
  });

  it("refuses a budget that is not a number of bytes ≥ 0", () => {
    expect(() => new IdlePromptCaches(-1)).toThrow(/must be a number of bytes ≥ 0, got -1/);
    expect(() => new IdlePromptCaches(Number.NaN)).toThrow(RangeError);
    expect(new IdlePromptCaches(0).budgetBytes).toBe(0);
  });

  it("drops a cache bigger than the whole budget at run end, and leaves the others", async () => {
    const small = await sessionWith(1, 10);
    const big = await sessionWith(6, 1_000);
    const idle = new IdlePromptCaches(6_000);
    const kept = new MessageCache(small.sql, { idle });
    const dropped = new MessageCache(big.sql, { idle });
    kept.prompt(SYSTEM, small.runtime.ledger.tail);
    kept.release();
    const before = dropped.prompt(SYSTEM, big.runtime.ledger.tail);
    expect(dropped.bytes).toBeGreaterThan(6_000);
    dropped.release();
    expect(dropped.bytes).toBe(0);
    expect(kept.bytes).toBeGreaterThan(0);
    expect(idle.bytes).toBe(kept.bytes);
    expect(idle.count).toBe(1);
    expect(dropped.prompt(SYSTEM, big.runtime.ledger.tail)).toEqual(before);
    expect(dropped.bytes).toBeGreaterThan(6_000);
  });

  it("a dropped cache reads again what changed while it was dropped", async () => {
    const a = await sessionWith(2, 1_000);
    const b = await sessionWith(2, 1_000);
    const idle = new IdlePromptCaches(1); // room for nothing: every release drops
    const cache = new MessageCache(a.sql, { idle });
    cache.prompt(SYSTEM, a.runtime.ledger.tail);
    cache.release();
    expect(cache.bytes).toBe(0);
    await a.runtime.start({ message: "And 4+4?" });
    await a.drain();
    expect(cache.prompt(SYSTEM, a.runtime.ledger.tail)).toEqual(freshPrompt(a));
    // Dropped by another object's release (LRU), then the session moves on.
    const room = new IdlePromptCaches(cache.bytes + 100);
    const first = new MessageCache(a.sql, { idle: room });
    const second = new MessageCache(b.sql, { idle: room });
    first.prompt(SYSTEM, a.runtime.ledger.tail);
    first.release();
    second.prompt(SYSTEM, b.runtime.ledger.tail);
    second.release();
    expect(first.bytes).toBe(0);
    await a.runtime.start({ message: "And 5+5?" });
    await a.drain();
    expect(first.prompt(SYSTEM, a.runtime.ledger.tail)).toEqual(freshPrompt(a));
  });

  it("the budget's bytes follow every cache through refresh, invalidate, reload and drops", async () => {
    const sessions = [
      await sessionWith(1, 500),
      await sessionWith(2, 300),
      await sessionWith(1, 50),
    ];
    const idle = new IdlePromptCaches(9_000);
    const all = sessions.map((s) => new MessageCache(s.sql, { idle }));
    /** The caches released since their last prompt or invalidate. */
    const parked = new Set<number>();
    const seen = { lruDrops: 0, overBudgetDrops: 0, mostHeld: 0, refreshes: 0 };
    // mulberry32: a seeded walk, the same every run.
    let seed = 17;
    const next = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const check = () => {
      let sum = 0;
      for (const k of parked) sum += all[k]!.bytes;
      expect(idle.bytes).toBe(sum);
      expect(idle.bytes).toBeGreaterThanOrEqual(0);
      expect(idle.bytes).toBeLessThanOrEqual(idle.budgetBytes);
      seen.mostHeld = Math.max(seen.mostHeld, idle.count);
    };
    const release = (k: number) => {
      const before = all.map((c) => c.bytes);
      all[k]!.release();
      parked.add(k);
      for (const [j, cache] of all.entries())
        if (before[j]! > 0 && cache.bytes === 0) {
          if (j === k) seen.overBudgetDrops++;
          else seen.lruDrops++;
        }
    };
    for (let op = 0; op < 160; op++) {
      const k = next(all.length);
      const s = sessions[k]!;
      const cache = all[k]!;
      switch (next(5)) {
        case 0: {
          // A run one action at a time, the cache read between actions: its tail's sizes change
          // (an assistant row streams, gets its parts, a tool result arrives).
          await s.runtime.start({ message: `op ${op}: ${"y".repeat(next(3) * 200)} What is 2+3?` });
          while (s.wakeAt() !== null && s.wakeAt()! <= s.clock.now()) {
            await s.runtime.alarm();
            if (parked.has(k)) continue;
            const bytes = cache.bytes;
            cache.prompt(SYSTEM, s.runtime.ledger.tail);
            if (bytes > 0 && cache.bytes !== bytes) seen.refreshes++;
            check();
          }
          break;
        }
        case 1:
          parked.delete(k);
          expect(cache.prompt(SYSTEM, s.runtime.ledger.tail)).toEqual(freshPrompt(s));
          break;
        case 2:
          release(k);
          break;
        case 3:
          cache.invalidate();
          parked.delete(k);
          expect(cache.bytes).toBe(0);
          break;
        default:
          // Released twice in a row (a run stopped, then another stop while idle).
          release(k);
          release(k);
      }
      check();
    }
    for (const [k, cache] of all.entries()) {
      parked.delete(k);
      expect(cache.prompt(SYSTEM, sessions[k]!.runtime.ledger.tail)).toEqual(
        freshPrompt(sessions[k]!),
      );
      check();
    }
    expect(idle.bytes).toBe(0);
    expect(idle.count).toBe(0);
    // The walk went through what it is for.
    expect(seen.lruDrops).toBeGreaterThan(0);
    expect(seen.overBudgetDrops).toBeGreaterThan(0);
    expect(seen.mostHeld).toBeGreaterThanOrEqual(2);
    expect(seen.refreshes).toBeGreaterThan(0);
  });
});

describe("the runtime keeps a stopped run's prompt cache in the isolate's budget", () => {
  it("a conversation over 256 KiB is not read again by the next run", async () => {
    const idle = new IdlePromptCaches(16 * 1024 * 1024);
    const s = createTestSession(mathAgent, { idlePromptCaches: idle });
    const counter = countLoads(s);
    for (let i = 0; i < 10; i++) {
      await s.runtime.start({ message: `${i}: ${"x".repeat(30_000)} What is 2+3?` });
      await s.drain();
    }
    expect(counter.loads).toBe(1);
    expect(idle.bytes).toBeGreaterThan(256 * 1024);
    expect(idle.count).toBe(1);
    await s.runtime.start({ message: "And 4+4?" });
    await s.drain();
    expect(counter.loads).toBe(1);
  });

  it("objects share the budget: the one whose run stopped last keeps its cache", async () => {
    // Room for one run's conversation (~3.3 KB), not two.
    const idle = new IdlePromptCaches(5_000);
    const a = createTestSession(mathAgent, { idlePromptCaches: idle });
    const b = createTestSession(mathAgent, { idlePromptCaches: idle });
    const loadsA = countLoads(a);
    const loadsB = countLoads(b);
    const turn = async (s: Session, n: number) => {
      await s.runtime.start({ message: `${n}: ${"x".repeat(3_000)} What is 2+3?` });
      await s.drain();
    };
    await turn(a, 1);
    expect(idle.count).toBe(1);
    const one = idle.bytes;
    expect(one).toBeGreaterThan(3_000);
    await turn(b, 1);
    // b's cache and a's do not both fit: a's (least recently used) was dropped.
    expect(idle.count).toBe(1);
    expect(idle.bytes).toBe(one);
    // b's next run starts warm; its conversation is then over the budget and dropped.
    await turn(b, 2);
    expect(loadsB.loads).toBe(1);
    expect(idle.count).toBe(0);
    // a's next run reads its conversation again.
    await turn(a, 2);
    expect(loadsA.loads).toBe(2);
    expect(idle.bytes).toBe(0);
  });
});
