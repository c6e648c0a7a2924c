import type { RunCompletedInfo } from "../agent/completion-hook.ts";
import type { RouteTable, SessionHttpContext, SessionRoute } from "./route.ts";

/** What a hook sees: the request (a clone: its body is still readable) and the session. */
export interface HookContext {
  readonly request: Request;
  readonly agent: string;
  readonly session: string;
  readonly env: Record<string, unknown>;
}

/** Returns a Response to answer with it instead of running the action. */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing lets the action run
export type BeforeHook = (ctx: HookContext) => void | Response | Promise<void | Response>;
/** Sees the action's response (a clone); may return a replacement. */
export type AfterHook = (
  ctx: HookContext,
  response: Response,
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing keeps the response
) => void | Response | Promise<void | Response>;

/**
 * Server hooks. `before*` may abort with its own response; `after*` run on a
 * 2xx; `onComplete` runs at least once per completed run, as due work committed
 * with its `run.completed` (retried on a throw, redriven after a crash).
 */
export interface SessionHooks {
  readonly beforeStart?: BeforeHook;
  readonly afterStart?: AfterHook;
  readonly beforeResume?: BeforeHook;
  readonly afterResume?: AfterHook;
  readonly beforeRetry?: BeforeHook;
  readonly afterRetry?: AfterHook;
  readonly onComplete?: (info: RunCompletedInfo) => void | Promise<void>;
  /**
   * How long one `onComplete` delivery may take (default 30 s). Past it the delivery counts
   * as failed (`info.signal` is aborted) and is retried, so a hung hook cannot hold up the
   * session's next runs.
   */
  readonly onCompleteTimeoutMs?: number;
  /** Runs before routing, for every session request. May return a new Request. */
  readonly transformRequest?: (
    request: Request,
    ctx: Omit<HookContext, "request">,
  ) => Request | Promise<Request>;
  /** Runs on every session response, errors included. */
  readonly transformResponse?: (
    response: Response,
    ctx: HookContext,
  ) => Response | Promise<Response>;
}

/** Which hook pair wraps which session action. */
const HOOKED: Record<string, readonly [keyof SessionHooks, keyof SessionHooks]> = {
  runs: ["beforeStart", "afterStart"],
  resume: ["beforeResume", "afterResume"],
  retry: ["beforeRetry", "afterRetry"],
};

/** Runs `route` inside the before/after hooks of its action, if any. */
export async function runHooked(
  action: string,
  route: SessionRoute,
  request: Request,
  ctx: SessionHttpContext,
): Promise<Response> {
  const pair = HOOKED[action];
  const hooks = ctx.hooks;
  if (!pair || !hooks || request.method !== "POST") return route(request, ctx);
  const before = hooks[pair[0]] as BeforeHook | undefined;
  const after = hooks[pair[1]] as AfterHook | undefined;
  const status = ctx.runtime.status();
  const hookCtx = (r: Request): HookContext => ({
    request: r,
    agent: status.agent,
    session: status.session,
    env: ctx.env ?? {},
  });
  if (before) {
    const early = await before(hookCtx(request.clone()));
    if (early instanceof Response) return early;
  }
  const response = await route(request, ctx);
  if (!after || !response.ok) return response;
  return (await after(hookCtx(request), response.clone())) ?? response;
}

export type { RouteTable, RunCompletedInfo };
