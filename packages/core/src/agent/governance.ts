import { DurableAgentsError } from "../errors/base.ts";
import type { ErrorInfo } from "../ledger/events.ts";
import type { AnyTool, ToolContext, ToolState } from "./define-tool.ts";

/**
 * Governed tools: what a tool may touch, who admits a call, and where it may call out.
 *
 * Invariants:
 * 1. `admit` runs before `execute`, on every transport the call can take (inline, MCP,
 *    Workflow: all through `admitCall`). A refusal or a throw is a `tool.failed`
 *    (`tool_refused`) the model sees; `execute` does not run (fail closed).
 * 2. A tool reaches the network through `ctx.fetch` only to hosts on the allow-lists of
 *    the domains it names; every redirect hop is checked the same way.
 * 3. Every domain a tool names is declared by its agent, and every declared domain has a
 *    non-empty allow-list in the environment, or the session does not open
 *    (`resolveDomains`: `undeclared_domain`, `domain_not_configured`).
 */

/** What a tool may touch: nothing outside the session (`read`), the session's data (`write`), the outside world (`external`). */
export type ToolAuthority = "read" | "write" | "external";

/** `admit`'s answer: go on, or refuse with a reason the model sees (in `tool.failed`). */
export type Admission =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly reason: string };

/**
 * What `admit` sees: the call's ids and key, its signal, and read access to the session (its
 * SQLite, state and projections). Nothing to write with: admission has no effects.
 */
export interface AdmitContext
  extends Omit<ToolContext, "transaction" | "state" | "fetch" | "authority" | "emit" | "schedule"> {
  readonly authority: ToolAuthority;
  /** The application state (read only). */
  readonly state: Pick<ToolState, "get">;
}

/**
 * One domain an agent's external tools call: `allow` reads its host allow-list from the
 * environment (`env => env.GITHUB_HOSTS.split(",")`). An entry is a host name
 * (`api.github.com`, any port) or `*.` and a suffix (`*.github.com`: its subdomains).
 */
export interface DomainPolicy {
  readonly allow: (env: Record<string, unknown>) => readonly string[] | undefined;
}

export type DomainPolicies = Readonly<Record<string, DomainPolicy>>;

/** The allow-lists of one session, by domain name, resolved from its environment. */
export type ResolvedDomains = ReadonlyMap<string, readonly string[]>;

/** The agent's configuration does not fit its tools or its environment: no session of it opens. */
export class AgentConfigError extends DurableAgentsError {
  override name = "AgentConfigError";
  constructor(code: "undeclared_domain" | "domain_not_configured", message: string) {
    super(code, 500, message, false, {});
  }
}

/** A tool asked `ctx.fetch` for a host outside its domains' allow-lists. */
export class HostNotAllowedError extends DurableAgentsError {
  override name = "HostNotAllowedError";
  constructor(tool: string, url: string, domains: readonly string[]) {
    super(
      "host_not_allowed",
      403,
      domains.length === 0
        ? `${tool} called ${url}, but it names no domains (only authority "external" tools with domains may call out); add domains: [...] to the tool and declare them on the agent`
        : `${tool} called ${url}, whose host is on none of its domains' allow-lists (${domains.join(", ")}); add the host to the allow-list in the environment, or call another host`,
      false,
      { details: { url, domains } },
    );
  }
}

interface GovernedAgent {
  readonly name: string;
  readonly tools: readonly AnyTool[];
  readonly domains?: DomainPolicies;
}

/** Throws AgentConfigError `undeclared_domain` when a tool names a domain its agent does not declare. */
export function assertDomainsDeclared(agent: GovernedAgent): void {
  const declared = agent.domains ?? {};
  for (const tool of agent.tools) {
    for (const domain of tool.domains ?? []) {
      if (!Object.hasOwn(declared, domain))
        throw new AgentConfigError(
          "undeclared_domain",
          `agent "${agent.name}": tool "${tool.name}" calls domain "${domain}", which the agent does not declare; add domains: { ${domain}: { allow: (env) => [...] } } to the agent`,
        );
    }
  }
}

/**
 * The allow-list of every domain the agent declares, from `env`, after checking that each
 * domain a tool names is declared (invariant 3). Throws AgentConfigError (500) otherwise.
 */
export function resolveDomains(
  agent: GovernedAgent,
  env: Record<string, unknown>,
): ResolvedDomains {
  assertDomainsDeclared(agent);
  const declared = agent.domains ?? {};
  const resolved = new Map<string, readonly string[]>();
  for (const [name, policy] of Object.entries(declared)) {
    let hosts: readonly string[] | undefined;
    try {
      hosts = policy.allow(env)?.map((h) => h.trim().toLowerCase());
    } catch (error) {
      throw new AgentConfigError(
        "domain_not_configured",
        `agent "${agent.name}": the allow-list of domain "${name}" could not be read from the environment (${error instanceof Error ? error.message : String(error)}); set the variable it reads`,
      );
    }
    const list = (hosts ?? []).filter((h) => h !== "");
    if (list.length === 0)
      throw new AgentConfigError(
        "domain_not_configured",
        `agent "${agent.name}": domain "${name}" has an empty allow-list in this environment; set the variable its allow(env) reads (for example a comma-separated list of hosts)`,
      );
    resolved.set(name, list);
  }
  return resolved;
}

/** Whether `host` is on `allow` (exact, case-insensitive, or `*.suffix` for subdomains). */
export function hostAllowed(host: string, allow: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allow.some((entry) =>
    entry.startsWith("*.")
      ? h.endsWith(entry.slice(1)) && h.length > entry.length - 1
      : h === entry,
  );
}

const MAX_REDIRECTS = 10;

/**
 * The `ctx.fetch` of one tool: `fetch` restricted to the hosts of its domains (invariant 2).
 * Redirects are followed here, hop by hop, so a redirect cannot leave the allow-list.
 */
export function governedFetch(
  tool: AnyTool,
  domains: ResolvedDomains,
  base: typeof fetch,
  signal: AbortSignal,
): typeof fetch {
  const names = tool.domains ?? [];
  const allow = names.flatMap((d) => domains.get(d) ?? []);
  const check = (url: URL) => {
    if (
      (url.protocol !== "https:" && url.protocol !== "http:") ||
      !hostAllowed(url.hostname, allow)
    )
      throw new HostNotAllowedError(tool.name, url.href, names);
  };
  return async (input, init) => {
    let request = new Request(input, init);
    const manual = request.redirect === "manual";
    for (let hop = 0; ; hop++) {
      check(new URL(request.url));
      const response = await base(new Request(request, { redirect: "manual", signal }));
      const location = response.headers.get("location");
      if (manual || response.status < 300 || response.status > 399 || !location) return response;
      if (hop >= MAX_REDIRECTS) throw new TypeError(`${tool.name}: too many redirects`);
      const next = new URL(location, request.url);
      const keepBody = response.status === 307 || response.status === 308;
      request = new Request(next, {
        method: keepBody ? request.method : request.method === "HEAD" ? "HEAD" : "GET",
        headers: request.headers,
        body: keepBody ? await request.clone().arrayBuffer() : undefined,
        redirect: "manual",
      });
    }
  };
}

/**
 * Runs the tool's `admit` for one call (invariant 1): `undefined` when admitted, or the
 * `tool_refused` error to record. A throw refuses too: a policy that cannot decide says no.
 */
export async function admitCall(
  tool: AnyTool,
  input: unknown,
  ctx: AdmitContext,
): Promise<ErrorInfo | undefined> {
  if (!tool.admit) return undefined;
  let decision: Admission;
  try {
    decision = await tool.admit(input, ctx);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      code: "tool_refused",
      message: `${tool.name} was not admitted: admit threw: ${message}`,
    };
  }
  if (decision?.admitted === true) return undefined;
  const reason =
    decision && decision.admitted === false && typeof decision.reason === "string"
      ? decision.reason
      : "admit returned no decision";
  return { code: "tool_refused", message: `${tool.name} was not admitted: ${reason}` };
}
