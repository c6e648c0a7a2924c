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

/**
 * 409: a fencing token that is not the lock's current, unexpired holder's. The write, refresh
 * or release is refused; the message says which case it is.
 */
export class StaleFencingTokenError extends ConflictError {
  override name = "StaleFencingTokenError";
  constructor(name: string, token: number, currentToken: number, expired: boolean) {
    const lock = `fencing token ${String(token).slice(0, 20)} of lock "${name.slice(0, 100)}"`;
    super(
      "stale_fencing_token",
      currentToken === 0
        ? `${lock} was never issued: the lock has never been acquired; acquire it first`
        : expired
          ? `${lock} has expired or was released; acquire the lock again`
          : typeof token === "number" && token > currentToken
            ? `${lock} was never issued by this lock (the latest is ${currentToken}); use the fencingToken that acquire returned`
            : `${lock} is stale (current is ${currentToken}); another holder acquired the lock, so this is refused`,
      { details: { token, currentToken, expired } },
    );
  }
}
