import { DurableObject } from "cloudflare:workers";
import { type Migration, migrate, type SqlPort } from "@durable-agents/core";
import { doSqlPort } from "../sql/do-sql-port.ts";
import {
  decideAcquire,
  decideFence,
  decideRefresh,
  decideRelease,
  FREE,
  type HolderDecision,
  isHeld,
  type LockState,
} from "./lock-state.ts";

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "lock",
    up: [
      "CREATE TABLE lock_state (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL, token INTEGER NOT NULL, owner TEXT, expires_at INTEGER NOT NULL)",
      "CREATE TABLE fenced_data (key TEXT PRIMARY KEY, value TEXT NOT NULL, token INTEGER NOT NULL)",
    ],
  },
];

export type AcquireResult =
  | { readonly acquired: true; readonly fencingToken: number; readonly expiresAt: number }
  | { readonly acquired: false; readonly owner: string; readonly expiresAt: number };

export type HolderResult =
  | { readonly ok: true; readonly expiresAt: number }
  | { readonly ok: false; readonly currentToken: number; readonly expired: boolean };

export interface LockInfo {
  readonly locked: boolean;
  readonly owner: string | null;
  readonly fencingToken: number;
  readonly expiresAt: number | null;
}

/**
 * One lock per object (named by `idFromName(lockName)`). State lives in the
 * object's SQLite, so fencing tokens stay monotonic across eviction and crashes.
 * Call it through `LockManager`; bind the class as `LOCKS`.
 */
export class LockObject extends DurableObject {
  readonly #sql: SqlPort = doSqlPort(this.ctx.storage);

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    migrate(this.#sql, "lock", MIGRATIONS);
  }

  acquire(name: string, owner: string, ttlMs: number): AcquireResult {
    const decision = decideAcquire(this.#state(), owner, ttlMs, Date.now());
    if (decision.type === "held")
      return { acquired: false, owner: decision.owner, expiresAt: decision.expiresAt };
    this.#commit(name, decision.next);
    return {
      acquired: true,
      fencingToken: decision.next.token,
      expiresAt: decision.next.expiresAt,
    };
  }

  refresh(name: string, token: number, ttlMs: number): HolderResult {
    return this.#apply(name, decideRefresh(this.#state(), token, ttlMs, Date.now()));
  }

  release(name: string, token: number): HolderResult {
    return this.#apply(name, decideRelease(this.#state(), token, Date.now()));
  }

  info(): LockInfo {
    const state = this.#state();
    const locked = isHeld(state, Date.now());
    return {
      locked,
      owner: locked ? state.owner : null,
      fencingToken: state.token,
      expiresAt: locked ? state.expiresAt : null,
    };
  }

  /** A write guarded by the lock: refused unless `token` is the current, unexpired holder's. */
  fencedWrite(key: string, value: string, token: number): HolderResult {
    const state = this.#state();
    const decision = decideFence(state, token, Date.now());
    if (decision.type === "stale") return { ok: false, ...pick(decision) };
    this.#sql.exec(
      "INSERT INTO fenced_data (key, value, token) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, token = excluded.token",
      key,
      value,
      token,
    );
    return { ok: true, expiresAt: state.expiresAt };
  }

  fencedRead(key: string): { value: string; token: number } | null {
    return (
      this.#sql.exec<{ value: string; token: number }>(
        "SELECT value, token FROM fenced_data WHERE key = ?",
        key,
      )[0] ?? null
    );
  }

  #apply(name: string, decision: HolderDecision): HolderResult {
    if (decision.type === "stale") return { ok: false, ...pick(decision) };
    this.#commit(name, decision.next);
    return { ok: true, expiresAt: decision.next.expiresAt };
  }

  #state(): LockState {
    const row = this.#sql.exec<{ token: number; owner: string | null; expires_at: number }>(
      "SELECT token, owner, expires_at FROM lock_state WHERE id = 1",
    )[0];
    return row ? { token: row.token, owner: row.owner, expiresAt: row.expires_at } : FREE;
  }

  /** The only writer of lock_state. */
  #commit(name: string, next: LockState): void {
    this.#sql.exec(
      "INSERT INTO lock_state (id, name, token, owner, expires_at) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET token = excluded.token, owner = excluded.owner, expires_at = excluded.expires_at",
      name,
      next.token,
      next.owner,
      next.expiresAt,
    );
  }
}

function pick(decision: { currentToken: number; expired: boolean }) {
  return { currentToken: decision.currentToken, expired: decision.expired };
}
