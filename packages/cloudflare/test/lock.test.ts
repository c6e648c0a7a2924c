import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  LockHeldError,
  LockManager,
  type LockObject,
  StaleFencingTokenError,
} from "../src/index.ts";

const locks = () => new LockManager(env.LOCKS);
let n = 0;
const lockName = () => `lock-${Date.now()}-${++n}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("lock object with fencing tokens", () => {
  it("acquire gives strictly increasing fencing tokens; a held lock is refused", async () => {
    const name = lockName();
    const a = await locks().acquire(name, { ttlMs: 10_000, owner: "a" });
    expect(a.fencingToken).toBe(1);
    await expect(locks().acquire(name, { ttlMs: 1000, owner: "b" })).rejects.toBeInstanceOf(
      LockHeldError,
    );
    expect(await locks().tryAcquire(name, { ttlMs: 1000, owner: "b" })).toMatchObject({
      acquired: false,
      owner: "a",
    });
    expect(await locks().isLocked(name)).toBe(true);
    await locks().release(name, a.fencingToken);
    expect(await locks().isLocked(name)).toBe(false);
    const b = await locks().acquire(name, { ttlMs: 1000, owner: "b" });
    expect(b.fencingToken).toBe(2);
  });

  it("refresh extends the holder's lease; a stale token cannot refresh or release", async () => {
    const name = lockName();
    const a = await locks().acquire(name, { ttlMs: 150, owner: "a" });
    const refreshed = await locks().refresh(name, a.fencingToken, 10_000);
    expect(refreshed.expiresAt).toBeGreaterThan(a.expiresAt);
    await sleep(200);
    expect(await locks().isLocked(name)).toBe(true);
    await expect(locks().refresh(name, a.fencingToken + 1, 1000)).rejects.toBeInstanceOf(
      StaleFencingTokenError,
    );
    await expect(locks().release(name, 99)).rejects.toBeInstanceOf(StaleFencingTokenError);
  });

  it("split brain: the old holder pauses past its TTL, a new holder acquires, the old write fails", async () => {
    const name = lockName();
    const old = await locks().acquire(name, { ttlMs: 100, owner: "old" });
    await locks().fencedWrite(name, "balance", "100", old.fencingToken);
    await sleep(150); // the old holder is paused (GC, network) past its TTL
    const fresh = await locks().acquire(name, { ttlMs: 10_000, owner: "new" });
    expect(fresh.fencingToken).toBeGreaterThan(old.fencingToken);
    await locks().fencedWrite(name, "balance", "200", fresh.fencingToken);
    // The old holder wakes up and writes with its stale token.
    const error = await locks()
      .fencedWrite(name, "balance", "0", old.fencingToken)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StaleFencingTokenError);
    expect((error as StaleFencingTokenError).details).toMatchObject({
      token: old.fencingToken,
      currentToken: fresh.fencingToken,
    });
    expect(await locks().fencedRead(name, "balance")).toEqual({
      value: "200",
      token: fresh.fencingToken,
    });
    // It can neither release nor refresh the new holder's lock.
    await expect(locks().release(name, old.fencingToken)).rejects.toBeInstanceOf(
      StaleFencingTokenError,
    );
    expect((await locks().info(name)).owner).toBe("new");
  });

  it("an expired holder's write is refused even before anyone else acquires", async () => {
    const name = lockName();
    const old = await locks().acquire(name, { ttlMs: 50, owner: "old" });
    await sleep(100);
    const error = await locks()
      .fencedWrite(name, "k", "v", old.fencingToken)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StaleFencingTokenError);
    expect((error as StaleFencingTokenError).details).toMatchObject({ expired: true });
    expect(await locks().fencedRead(name, "k")).toBeNull();
  });

  it("fencing stays monotonic across object restarts", async () => {
    const name = lockName();
    const stub = env.LOCKS.get(env.LOCKS.idFromName(name));
    const first = await locks().acquire(name, { ttlMs: 10_000, owner: "a" });
    await locks().release(name, first.fencingToken);
    // Crash the object: in-memory state is gone, only its SQLite remains.
    await runInDurableObject(stub, (_instance: LockObject, state) =>
      state.abort("injected crash: restart"),
    ).catch(() => undefined);
    const second = await locks().acquire(name, { ttlMs: 10_000, owner: "b" });
    expect(second.fencingToken).toBe(first.fencingToken + 1);
    await runInDurableObject(stub, (_instance: LockObject, state) =>
      state.abort("injected crash: restart"),
    ).catch(() => undefined);
    await expect(locks().fencedWrite(name, "k", "v", first.fencingToken)).rejects.toBeInstanceOf(
      StaleFencingTokenError,
    );
    await locks().fencedWrite(name, "k", "v", second.fencingToken);
  });

  it("rejects bad arguments with a 400 error", async () => {
    await expect(locks().acquire(lockName(), { ttlMs: 0, owner: "a" })).rejects.toMatchObject({
      code: "invalid_ttl",
      status: 400,
    });
    await expect(locks().acquire("", { ttlMs: 10, owner: "a" })).rejects.toMatchObject({
      code: "invalid_lock_name",
    });
  });

  // Review finding: an acquire without an owner (untyped JS, or an owner read from a missing
  // env var) answered a lease, but stored no holder: the lock was free, so a second caller
  // acquired it at once, and the first holder's fenced writes were refused as expired.
  it("an acquire without an owner string is a 400 and takes nothing", async () => {
    const name = lockName();
    for (const owner of [undefined, null, 7]) {
      await expect(
        locks().acquire(name, { ttlMs: 10_000, owner } as unknown as {
          ttlMs: number;
          owner: string;
        }),
      ).rejects.toMatchObject({ code: "invalid_owner", status: 400 });
    }
    expect(await locks().info(name)).toMatchObject({ locked: false, fencingToken: 0 });
    const lease = await locks().acquire(name, { ttlMs: 10_000, owner: "a" });
    expect(lease.fencingToken).toBe(1);
  });

  // Review finding: a token the lock never issued, and a released one, were refused with
  // messages that were not true of them ("another holder acquired the lock", "has expired").
  it("the refusal says why: a token never issued, a released lease", async () => {
    const name = lockName();
    const lease = await locks().acquire(name, { ttlMs: 10_000, owner: "a" });
    const future = await locks()
      .fencedWrite(name, "k", "v", lease.fencingToken + 5)
      .catch((e: unknown) => e);
    expect(future).toBeInstanceOf(StaleFencingTokenError);
    expect((future as Error).message).toContain("never issued");
    await locks().release(name, lease.fencingToken);
    const released = await locks()
      .release(name, lease.fencingToken)
      .catch((e: unknown) => e);
    expect(released).toBeInstanceOf(StaleFencingTokenError);
    expect((released as Error).message).toContain("released");
  });

  // Review finding: fencedWrite(name, key, value, NaN) was a 409 stale_fencing_token saying
  // "another holder acquired the lock" (details.token null); token 0 on a lock never acquired
  // said it "has expired or was released".
  it("a token that is not one a lock issues is a 400 naming it, at every entry point", async () => {
    const name = lockName();
    const lease = await locks().acquire(name, { ttlMs: 10_000, owner: "a" });
    const bad = [Number.NaN, 0, -1, 1.5, Number.POSITIVE_INFINITY, "1", null, undefined];
    for (const token of bad as number[]) {
      const calls = [
        locks().fencedWrite(name, "k", "v", token),
        locks().refresh(name, token, 10_000),
        locks().release(name, token),
      ];
      for (const call of calls) {
        const error = await call.catch((e: unknown) => e);
        expect(error, String(token)).toMatchObject({ code: "invalid_fencing_token", status: 400 });
        const shown = typeof token === "string" ? `string "${token}"` : String(token);
        expect((error as Error).message).toContain(`got ${shown}`);
      }
    }
    // Nothing was written, refreshed or released.
    expect(await locks().fencedRead(name, "k")).toBeNull();
    expect(await locks().info(name)).toMatchObject({ locked: true, fencingToken: 1 });
    await locks().release(name, lease.fencingToken);
  });

  it("a token on a lock never acquired says the lock was never acquired", async () => {
    const name = lockName();
    const error = await locks()
      .fencedWrite(name, "k", "v", 1)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StaleFencingTokenError);
    expect((error as Error).message).toContain("has never been acquired");
    // The object answers the same when called without LockManager.
    const stub = env.LOCKS.get(env.LOCKS.idFromName(name));
    expect(await stub.fencedWrite("k", "v", 0)).toEqual({
      ok: false,
      currentToken: 0,
      expired: false,
    });
  });
});

declare global {
  namespace Cloudflare {
    interface Env {
      LOCKS: DurableObjectNamespace<LockObject>;
      INDEX_DB: D1Database;
      AUTH_SECRET: string;
    }
  }
}
