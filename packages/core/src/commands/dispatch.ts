import type { StatusView } from "../agent/session-runtime-options.ts";
import type { TokenScope } from "../auth/session-token.ts";
import type { Clock } from "../clock.ts";
import type { AfterHook, BeforeHook, CommandHookContext, SessionHooks } from "../http/hooks.ts";
import { invalidInput, validate } from "../http/read-json.ts";
import { type Caller, checkCaller, otherSessionError, TRUSTED_CALLER } from "./caller.ts";
import type {
  CommandName,
  CommandRunContext,
  ImpliedCommand,
  SessionCommand,
  Transport,
} from "./command.ts";
import { SESSION_COMMANDS } from "./session-commands.ts";

/**
 * The one door to a session's mutating methods.
 *
 * Invariants:
 * 1. Every transport reaches `SessionRuntime`'s mutating methods only through
 *    `dispatchCommand` (checked by `one-door.test.ts`, which scans the sources).
 * 2. Order: the caller (expiry, then scope), then the input (its schema, then `refuses`), then the caller's authority over
 *    another session the command writes (`writesSession`, a fork's target: asked of
 *    `call.authorizeSession`, refused without one unless the caller is TRUSTED_CALLER), then
 *    `beforeCommand`, the command's own before hook, then for a command it implies
 *    (`implies`: a start that ends the active run aborts it) that command's scope and before
 *    hooks, as if it came alone (a request of its own route with the caller's headers); then `run`, its after hook, `afterCommand`. A refusal at any
 *    point before `run` changes nothing.
 * 3. What a command returns or throws is transport-neutral: a transport renders an
 *    outcome (`renderCommandResponse` for HTTP) or an error (`renderError`) and adds nothing.
 * 4. A command's `run` decides synchronously before its first await (the runtime's methods
 *    check the projections and append in one step), so a Durable Object runs no other
 *    request between that check and the append.
 * 5. `call.precondition` runs after the last before hook and synchronously before `run`:
 *    together with 4, what it checks still holds when the command decides.
 */
export interface CommandCall extends CommandRunContext {
  readonly caller: Caller;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly hooks?: SessionHooks;
  readonly env?: Record<string, unknown>;
  /** The HTTP request it came in (body unread), if any; hooks get clones of it. */
  readonly request?: Request;
  /** For transports without a request: the origin of the equivalent request hooks get. */
  readonly origin?: string;
  /**
   * Runs after the hooks, immediately before `run` and in the same synchronous step; a
   * throw refuses the command and nothing changes (a compare-and-set's check: invariant 5).
   */
  readonly precondition?: () => void;
  /**
   * The caller's authority over another session of this agent (`session`: its id) that the
   * command writes (a fork's target), by the rule that let the caller in here (the HTTP door:
   * the app's `authorize` or the token check, asked with the same request). Resolves when
   * allowed; throws the refusal (403 `wrong_session`). Absent: the caller may write no other
   * session (a WebSocket's caller, settled at the upgrade for its own session).
   */
  readonly authorizeSession?: (session: string, scope: TokenScope) => Promise<void>;
}

/**
 * The command ran (`result`, and `response` if an after hook replaced its rendering), or
 * a before hook answered instead (`answered`) and it did not run.
 */
export type CommandOutcome =
  | {
      readonly type: "result";
      readonly status: number;
      readonly result: unknown;
      readonly response?: Response;
    }
  | { readonly type: "answered"; readonly response: Response };

/** Whether `name` is a session command (for parsers of untrusted frames). */
export function isCommandName(name: unknown): name is CommandName {
  return typeof name === "string" && Object.hasOwn(SESSION_COMMANDS, name);
}

/** Runs one command for `call.caller`: checks, hooks, then the runtime. Throws typed errors. */
export async function dispatchCommand(
  name: CommandName,
  raw: unknown,
  call: CommandCall,
): Promise<CommandOutcome> {
  const command: SessionCommand = SESSION_COMMANDS[name];
  checkCaller(call.caller, command.scope, call.clock.now());
  const input = validate(command.input, raw, command.what);
  const issue = command.refuses?.(input, call);
  if (issue) throw invalidInput(command.what, [issue]);
  if (command.writesSession) await authorizeOtherSession(command, input, call);
  const hooks = call.hooks ?? {};
  const named = command.hooks;
  const after = [named && hooks[named[1]], hooks.afterCommand].filter(isHook<AfterHook>);
  const hookCtx = contextFor(command, raw, input, call);
  const early = await beforeHooks(command, hookCtx, call);
  if (early) return { type: "answered", response: early };
  // Read after the command's own hooks (which await), with nothing awaited between an undefined
  // answer and `run`: a run that became active meanwhile is seen here.
  const implied = command.implies?.(input, call);
  if (implied) {
    const refused = await impliedChecks(implied, call);
    if (refused) return { type: "answered", response: refused };
  }
  call.precondition?.();
  const done = await command.run(call, input);
  if (after.length === 0) return { type: "result", ...done };
  let response = Response.json(done.result ?? null, { status: done.status });
  let replaced = false;
  for (const hook of after) {
    const next = await hook(hookCtx(), response.clone());
    if (next instanceof Response) {
      response = next;
      replaced = true;
    }
  }
  return replaced ? { type: "result", ...done, response } : { type: "result", ...done };
}

/**
 * Invariant 2: a command another performs in its own append (an abort a start implies) is
 * checked as if it came alone: the caller's scope for it, then its before hooks, each given a
 * request of its own route. A hook's Response refuses both.
 */
async function impliedChecks(
  implied: ImpliedCommand,
  call: CommandCall,
): Promise<Response | undefined> {
  const command: SessionCommand = SESSION_COMMANDS[implied.name];
  checkCaller(call.caller, command.scope, call.clock.now());
  const input = validate(command.input, implied.input, command.what);
  const own: CommandCall = { ...call, request: impliedRequest(command, implied.input, call) };
  return beforeHooks(command, contextFor(command, implied.input, input, own), own);
}

/**
 * The request of the implied command's own route, carrying the caller's headers (its token,
 * cookies, the app's own headers), so a hook that decides by them decides alike; undefined for
 * a transport without a request (its hooks get the equivalent request, as for any command).
 */
function impliedRequest(
  command: SessionCommand,
  raw: unknown,
  call: CommandCall,
): Request | undefined {
  if (!call.request) return undefined;
  const { agent, session } = call.runtime.status();
  const origin = new URL(call.request.url).origin;
  const route = equivalentRequest(command, raw, agent, session, origin);
  const headers = new Headers(call.request.headers);
  headers.set("content-type", "application/json");
  headers.delete("content-length");
  return new Request(route, { headers });
}

/** `beforeCommand`, then the command's named before hook, each given a fresh context; a Response answers instead. */
async function beforeHooks(
  command: SessionCommand,
  hookCtx: () => CommandHookContext,
  call: CommandCall,
): Promise<Response | undefined> {
  const hooks = call.hooks ?? {};
  const named = command.hooks;
  for (const hook of [hooks.beforeCommand, named && hooks[named[0]]].filter(isHook<BeforeHook>)) {
    const early = await hook(hookCtx());
    if (early instanceof Response) return early;
  }
  return undefined;
}

/** Invariant 2: the caller may write the other session `command` writes, if it names one. */
async function authorizeOtherSession(
  command: SessionCommand,
  input: unknown,
  call: CommandCall,
): Promise<void> {
  const target = command.writesSession?.(input);
  if (target === undefined || call.caller === TRUSTED_CALLER) return;
  const { agent, session } = call.runtime.status();
  if (target === session) return; // its own session: the caller is checked above
  if (call.authorizeSession) return call.authorizeSession(target, "write");
  throw otherSessionError(
    `${agent}/${session}`,
    `${agent}/${target}`,
    `this ${call.transport} caller's authority was settled for "${agent}/${session}" alone`,
  );
}

/** A fresh hook context per hook (each gets its own readable request); built only if a hook runs. */
function contextFor(
  command: SessionCommand,
  raw: unknown,
  input: unknown,
  call: CommandCall,
): () => CommandHookContext {
  // A hook's own interrupt or abort: the same command, trusted, without hooks (no loops).
  const act = async (name: "interrupt" | "abort", reason: string | undefined) => {
    const own: CommandCall = {
      ...call,
      caller: TRUSTED_CALLER,
      transport: "hook",
      hooks: undefined,
    };
    const outcome = await dispatchCommand(name, reason === undefined ? {} : { reason }, own);
    return (outcome.type === "result" ? outcome.result : undefined) as StatusView;
  };
  return () => {
    const { agent, session, status, runId, step } = call.runtime.status();
    const app = call.runtime.appContext();
    return {
      emit: app.emit,
      projection: app.projection,
      request: call.request
        ? call.request.clone()
        : equivalentRequest(command, raw, agent, session, call.origin),
      agent,
      session,
      env: call.env ?? {},
      command: command.name,
      input,
      caller: call.caller,
      transport: call.transport,
      execution: { status, runId, step },
      interrupt: (reason) => act("interrupt", reason),
      abort: (reason) => act("abort", reason),
    };
  };
}

/** The HTTP request that would carry this command: what hooks written for HTTP read. */
function equivalentRequest(
  command: SessionCommand,
  raw: unknown,
  agent: string,
  session: string,
  origin = "http://session.invalid",
): Request {
  const url = new URL(
    `/agents/${encodeURIComponent(agent)}/${encodeURIComponent(session)}/${command.http.action}`,
    origin,
  );
  if (command.http.method === "DELETE") {
    for (const [key, value] of Object.entries(raw as Record<string, unknown>))
      url.searchParams.set(key, String(value));
    return new Request(url, { method: "DELETE" });
  }
  return new Request(url, {
    method: command.http.method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(raw),
  });
}

function isHook<T>(hook: unknown): hook is T {
  return typeof hook === "function";
}
