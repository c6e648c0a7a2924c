import type { AfterHook, BeforeHook, HookContext, SessionHooks } from "./hooks.ts";

/** The hooks a registry holds lists of (every function of SessionHooks). */
export type HookName = {
  [K in keyof SessionHooks]-?: NonNullable<SessionHooks[K]> extends (...args: never[]) => unknown
    ? K
    : never;
}[keyof SessionHooks];

type HookOf<N extends HookName> = NonNullable<SessionHooks[N]>;

const BEFORE = ["beforeCommand", "beforeStart", "beforeResume", "beforeRetry"] as const;
const AFTER = ["afterCommand", "afterStart", "afterResume", "afterRetry"] as const;

/**
 * Server hooks that app code adds and removes while it runs: pass it as
 * `createAgentServer({ hooks })` in place of a plain `SessionHooks` object.
 * Several hooks of one name run in the order they were registered:
 * - `before*`: each in turn; the first that answers with a Response (or throws) stops the rest.
 * - `after*`, `transformRequest`, `transformResponse`: chained, each sees the previous one's result.
 * - `onComplete`: each in turn; a throw fails that delivery, which is retried (all of them again:
 *   dedupe on `idempotencyKey`).
 * A session reads the list when a hook runs, so `unregister` and `clear` apply at once.
 * @example
 * const hooks = new HookRegistry();
 * const off = hooks.register("onComplete", ({ status, runId }) => notify(runId, status));
 * export const AgentSession = createAgentServer({ agents: [assistant], hooks });
 * off(); // or hooks.unregister("onComplete", fn), hooks.clear("onComplete"), hooks.clear()
 */
export class HookRegistry implements SessionHooks {
  readonly #hooks = new Map<HookName, unknown[]>();
  /** As in SessionHooks: how long one onComplete delivery may take. */
  onCompleteTimeoutMs?: number;

  /** Adds `hook` under `name`; returns a function that removes it again. */
  register<N extends HookName>(name: N, hook: HookOf<N>): () => boolean {
    const list = this.#hooks.get(name) ?? [];
    list.push(hook);
    this.#hooks.set(name, list);
    return () => this.unregister(name, hook);
  }

  /** Removes one registration of `hook` under `name`; false when it was not registered. */
  unregister<N extends HookName>(name: N, hook: HookOf<N>): boolean {
    const list = this.#hooks.get(name);
    const at = list?.indexOf(hook) ?? -1;
    if (!list || at < 0) return false;
    list.splice(at, 1);
    return true;
  }

  /** Removes every hook of `name`, or every hook of every name. */
  clear(name?: HookName): void {
    if (name === undefined) this.#hooks.clear();
    else this.#hooks.delete(name);
  }

  /** How many hooks are registered under `name`. */
  count(name: HookName): number {
    return this.#hooks.get(name)?.length ?? 0;
  }

  #list<N extends HookName>(name: N): HookOf<N>[] {
    return [...((this.#hooks.get(name) as HookOf<N>[] | undefined) ?? [])];
  }

  #before(name: (typeof BEFORE)[number]): BeforeHook | undefined {
    if (this.count(name) === 0) return undefined;
    return async (ctx) => {
      for (const hook of this.#list(name)) {
        const answer = await hook(ctx);
        if (answer instanceof Response) return answer;
      }
    };
  }

  #after(name: (typeof AFTER)[number]): AfterHook | undefined {
    if (this.count(name) === 0) return undefined;
    return async (ctx, response) => {
      let current = response;
      let replaced = false;
      for (const hook of this.#list(name)) {
        const next = await hook(ctx, current.clone());
        if (next instanceof Response) {
          current = next;
          replaced = true;
        }
      }
      return replaced ? current : undefined;
    };
  }

  get beforeCommand() {
    return this.#before("beforeCommand");
  }
  get beforeStart() {
    return this.#before("beforeStart");
  }
  get beforeResume() {
    return this.#before("beforeResume");
  }
  get beforeRetry() {
    return this.#before("beforeRetry");
  }
  get afterCommand() {
    return this.#after("afterCommand");
  }
  get afterStart() {
    return this.#after("afterStart");
  }
  get afterResume() {
    return this.#after("afterResume");
  }
  get afterRetry() {
    return this.#after("afterRetry");
  }

  get onComplete(): SessionHooks["onComplete"] {
    if (this.count("onComplete") === 0) return undefined;
    return async (info) => {
      for (const hook of this.#list("onComplete")) await hook(info);
    };
  }

  get transformRequest(): SessionHooks["transformRequest"] {
    if (this.count("transformRequest") === 0) return undefined;
    return async (request, ctx: Omit<HookContext, "request">) => {
      let current = request;
      for (const hook of this.#list("transformRequest")) current = await hook(current, ctx);
      return current;
    };
  }

  get transformResponse(): SessionHooks["transformResponse"] {
    if (this.count("transformResponse") === 0) return undefined;
    return async (response, ctx) => {
      let current = response;
      for (const hook of this.#list("transformResponse")) current = await hook(current, ctx);
      return current;
    };
  }
}
