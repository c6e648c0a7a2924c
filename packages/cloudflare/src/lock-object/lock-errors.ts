import { ConflictError } from "@durable-agents/core";

/** 409: the lock is held by someone else. Carries who and until when, so the caller can wait. */
export class LockHeldError extends ConflictError {
  override name = "LockHeldError";
  constructor(name: string, owner: string, expiresAt: number) {
    super(
      "lock_held",
      `lock "${name.slice(0, 100)}" is held by "${owner.slice(0, 100)}" until ${new Date(expiresAt).toISOString()}; retry after it expires or is released`,
      { details: { owner, expiresAt } },
    );
  }
}

/** 409: a fencing token that is no longer the lock's current one. The write is refused. */
export class StaleFencingTokenError extends ConflictError {
  override name = "StaleFencingTokenError";
  constructor(name: string, token: number, currentToken: number, expired: boolean) {
    super(
      "stale_fencing_token",
      expired
        ? `fencing token ${token} of lock "${name.slice(0, 100)}" has expired; acquire the lock again before writing`
        : `fencing token ${token} of lock "${name.slice(0, 100)}" is stale (current is ${currentToken}); another holder acquired the lock, so this write is refused`,
      { details: { token, currentToken, expired } },
    );
  }
}
