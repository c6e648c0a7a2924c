import { BadRequestError } from "@durable-agents/core";
import { LockHeldError, StaleFencingTokenError } from "./lock-errors.ts";
import type { AcquireResult, HolderResult, LockInfo, LockObject } from "./lock-object.ts";

export interface AcquireOptions {
  /** How long the lock is held unless refreshed. */
  readonly ttlMs: number;
  /** Who holds it; shown to other callers while it is held. */
  readonly owner: string;
}

export interface Lease {
  readonly name: string;
  readonly fencingToken: number;
  readonly expiresAt: number;
}

const MAX_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Client for `LockObject`: one object per lock name.
 * @example
 * const locks = new LockManager(env.LOCKS);
 * const { fencingToken } = await locks.acquire("invoice:42", { ttlMs: 10_000, owner: "worker-a" });
 * await locks.fencedWrite("invoice:42", "status", "paid", fencingToken);
 * await locks.release("invoice:42", fencingToken);
 */
export class LockManager {
  readonly #namespace: DurableObjectNamespace<LockObject>;

  /**
   * `namespace`: the binding of `LockObject`, typed as `wrangler types` does
   * (`DurableObjectNamespace<LockObject>`) or as a plain `DurableObjectNamespace`, the way
   * README types `AGENTS`. The type cannot say which class a plain binding holds; what
   * wrangler.jsonc binds decides, as for every namespace the router takes.
   */
  constructor(namespace: DurableObjectNamespace<LockObject> | DurableObjectNamespace) {
    this.#namespace = namespace as DurableObjectNamespace<LockObject>;
  }

  /** Acquires the lock or throws `LockHeldError` (409) with the holder and its expiry. */
  async acquire(name: string, options: AcquireOptions): Promise<Lease> {
    const result = await this.tryAcquire(name, options);
    if (!result.acquired) throw new LockHeldError(name, result.owner, result.expiresAt);
    return { name, fencingToken: result.fencingToken, expiresAt: result.expiresAt };
  }

  /** Like `acquire`, but answers `{ acquired: false, owner, expiresAt }` instead of throwing. */
  async tryAcquire(name: string, options: AcquireOptions): Promise<AcquireResult> {
    checkTtl(options.ttlMs);
    // A holder is stored by its owner: without one the lock would answer a lease yet hold nothing.
    if (typeof options.owner !== "string" || options.owner === "")
      throw new BadRequestError(
        "invalid_owner",
        `owner must be a non-empty string naming the holder; got ${options.owner === "" ? '""' : typeof options.owner}`,
      );
    return (await this.#stub(name).acquire(name, options.owner, options.ttlMs)) as AcquireResult;
  }

  /** Extends the lease of the holder of `fencingToken`; throws `StaleFencingTokenError` otherwise. */
  async refresh(name: string, fencingToken: number, ttlMs: number): Promise<Lease> {
    checkToken(fencingToken);
    checkTtl(ttlMs);
    const result = (await this.#stub(name).refresh(name, fencingToken, ttlMs)) as HolderResult;
    return { name, fencingToken, expiresAt: expect(name, fencingToken, result) };
  }

  async release(name: string, fencingToken: number): Promise<void> {
    checkToken(fencingToken);
    expect(
      name,
      fencingToken,
      (await this.#stub(name).release(name, fencingToken)) as HolderResult,
    );
  }

  async isLocked(name: string): Promise<boolean> {
    return (await this.info(name)).locked;
  }

  async info(name: string): Promise<LockInfo> {
    return (await this.#stub(name).info()) as LockInfo;
  }

  /** Writes `key` under the lock; refused with `StaleFencingTokenError` for a stale or expired token. */
  async fencedWrite(name: string, key: string, value: string, fencingToken: number): Promise<void> {
    checkToken(fencingToken);
    const result = (await this.#stub(name).fencedWrite(key, value, fencingToken)) as HolderResult;
    expect(name, fencingToken, result);
  }

  async fencedRead(name: string, key: string): Promise<{ value: string; token: number } | null> {
    return (await this.#stub(name).fencedRead(key)) as { value: string; token: number } | null;
  }

  #stub(name: string) {
    if (name === "" || name.length > 512)
      throw new BadRequestError("invalid_lock_name", "a lock name is 1-512 characters");
    return this.#namespace.get(this.#namespace.idFromName(name));
  }
}

function checkTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TTL_MS)
    throw new BadRequestError(
      "invalid_ttl",
      `ttlMs must be an integer from 1 to ${MAX_TTL_MS} (24 h); got ${String(ttlMs).slice(0, 20)}`,
    );
}

/**
 * The one check of a fencing token, before any entry point that takes one asks the lock: a
 * lock issues safe integers from 1 (lock-state.ts, invariant 1), so anything else (NaN, 0,
 * a string) is a caller's mistake, a 400 that names it, never a 409 about other holders.
 */
function checkToken(token: number): void {
  if (!Number.isSafeInteger(token) || token < 1) {
    const shown =
      typeof token === "string"
        ? `string ${JSON.stringify(token as string).slice(0, 20)}`
        : String(token).slice(0, 20);
    throw new BadRequestError(
      "invalid_fencing_token",
      `fencingToken must be the integer (1 or more) that acquire returned; got ${shown}`,
    );
  }
}

function expect(name: string, token: number, result: HolderResult): number {
  if (!result.ok)
    throw new StaleFencingTokenError(name, token, result.currentToken, result.expired);
  return result.expiresAt;
}
