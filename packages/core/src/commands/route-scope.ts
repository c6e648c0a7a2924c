import { scopeOf } from "../auth/access.ts";
import type { TokenScope } from "../auth/session-token.ts";
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
