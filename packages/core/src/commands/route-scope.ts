import { scopeOf } from "../auth/access.ts";
import type { TokenScope } from "../auth/session-token.ts";
import { type Caller, checkCaller } from "./caller.ts";
import { SESSION_COMMANDS } from "./session-commands.ts";

/**
 * The scope a session HTTP request needs, asked of auth before the request reaches the
 * object: the scope of the command that route carries (its declaration), else by method
 * (`read` for GET and HEAD, `write` otherwise). So an `admin` command such as
 * `projection.rebuild` is authorized as admin by the token check and by an app's `authorize`.
 */
export function routeScope(action: string, method: string): TokenScope {
  for (const command of Object.values(SESSION_COMMANDS))
    if (command.http.action === action && command.http.method === method) return command.scope;
  return scopeOf(method);
}

/**
 * The scopes the session commands need, from their declarations (SESSION_COMMANDS): what a
 * WebSocket's caller is asked for at the upgrade, since its frames are commands.
 */
export const COMMAND_SCOPES: readonly TokenScope[] = [
  ...new Set(Object.values(SESSION_COMMANDS).map((command) => command.scope)),
];

/**
 * Why `caller` may send no session command at `now` (epoch ms): its token expired (401
 * `token_expired`) or it holds none of COMMAND_SCOPES (403 `missing_scope`, for `write`).
 * Undefined when it may send some command. A transport asks this before it says what is wrong
 * with a frame that names no command, so a caller let in to nothing hears only its refusal.
 */
export function commandRefusal(caller: Caller, now: number): unknown {
  const held = COMMAND_SCOPES.find((scope) => caller.scopes.includes(scope));
  try {
    checkCaller(caller, held ?? "write", now);
    return undefined;
  } catch (refusal) {
    return refusal;
  }
}
