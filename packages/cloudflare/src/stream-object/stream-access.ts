/**
 * The door of `/v1/stream/*`: the same check as the session routes (`authorizeRequest`: the
 * app's `authorize` hook, else a signed token), with a stream subject per path.
 *
 * Invariants:
 * 1. Every request to a stream object passes here first, except preflights (no credentials
 *    by design) and the `__ds` callback/ack/release routes, whose credential is the wake token
 *    the registry issued and checks itself (PROTOCOL.md 7.1-7.3, wake-auth.ts).
 * 2. A fork (`PUT` with `Stream-Forked-From`) also needs read access to its source, so a
 *    token cannot copy a stream it cannot read.
 * 3. `__ds` routes are named by the registry's own parse (decoded subscription id), so a
 *    token for `__ds/subscriptions/a` and the object agree on which subscription that is.
 */
import { type Logger, scopeOf, streamSub, type TokenScope } from "@durable-agents/core";
import {
  authenticatesItself,
  parseFork,
  parseRegistryPath,
  registryResource,
} from "@durable-agents/core/streams";
import { type Authorize, type AuthTarget, authorizeRequest } from "../auth/authorize.ts";
import { REGISTRY_NAME } from "./registry-object.ts";

export interface StreamAccessOptions {
  /** Replaces the default token check (mintStreamToken); see docs/streams.md#auth. */
  readonly authorize?: Authorize;
  readonly logger: Logger;
}

/**
 * What a request to the stream at `path` (stream-root-relative) needs, in order: the stream
 * itself, then a fork's source. Lazy, so the first check runs before the fork headers are
 * parsed: a caller without access learns nothing from a 400 about them.
 */
export function* streamAccessTargets(
  request: Request,
  path: string,
  streamRoot: string,
): Generator<AuthTarget, void, undefined> {
  const scope = scopeOf(request.method);
  if (path === REGISTRY_NAME || path.startsWith(`${REGISTRY_NAME}/`)) {
    const route = parseRegistryPath(path.slice(REGISTRY_NAME.length + 1));
    if (!authenticatesItself(route))
      yield streamTarget(route ? registryResource(route) : path, scope);
    return;
  }
  yield streamTarget(path, scope);
  const fork = request.method === "PUT" ? parseFork(request.headers, streamRoot) : null;
  if (fork) yield streamTarget(fork.sourcePath, "read");
}

/** Undefined when allowed; a Response when the `authorize` hook answered; throws a 401/403. */
export async function authorizeStreamRequest(
  request: Request,
  env: Record<string, unknown>,
  path: string,
  streamRoot: string,
  options: StreamAccessOptions,
): Promise<Response | undefined> {
  for (const target of streamAccessTargets(request, path, streamRoot)) {
    const outcome = await authorizeRequest(request, env, target, options);
    if (outcome.type === "respond") return outcome.response;
  }
  return undefined;
}

function streamTarget(stream: string, scope: TokenScope): AuthTarget {
  return { sub: streamSub(stream), scope, stream };
}
