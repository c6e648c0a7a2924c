/**
 * One declaration of who may do what: `routeRequest` takes the rule (and the index and
 * prices) from the server class createAgentServer made, so the Worker's own routes (the
 * index, `/v1/stream/*`, `/mcp/:agent`) and the session object's (HTTP and WebSocket) apply
 * the same `authorize`, written once (docs/architecture.md, "One rule for every door").
 *
 * Invariants:
 * 1. Given `server`, every door of routeRequest checks with `server.options.authorize` (absent:
 *    the signed-token check, as the session object does).
 * 2. A value given to both (`authorize`, `index`, `prices`) must be the same value: another one
 *    refuses every request with 500 `conflicting_options`, so two rules never silently diverge.
 *    `allowLocalDev()` with equal options is the same value (auth/authorize.ts), so writing it
 *    twice is one rule.
 * 3. Without `server`, routeRequest's own options are used as before (the older form), and a
 *    Worker whose routeRequest checks by another rule than its createAgentServer (another
 *    `authorize`, or one where the other has none) is told so once per isolate
 *    (`rule_not_applied`): its own routes and its sessions let in different requests.
 */
import { DurableAgentsError, type Logger, type PriceTable } from "@durable-agents/core";
import type { AgentServerOptions } from "./agent-object/agent-server-options.ts";
import type { Authorize } from "./auth/authorize.ts";
import type { SessionIndex } from "./d1/index-port.ts";

/** What routeRequest reads of a server class (createAgentServer's result): its options and agents. */
export interface RoutedServer {
  /** The agent types it serves (the default of `mcp.agents`). */
  readonly agents: readonly string[];
  /** The options it was created with: those the Worker's routes apply too. */
  readonly options: Pick<AgentServerOptions, "authorize" | "index" | "prices" | "logger">;
}

/** The options of routeRequest that the server also declares. */
export interface DeclaredOnce {
  readonly server?: RoutedServer;
  readonly authorize?: Authorize;
  readonly index?: SessionIndex;
  readonly prices?: PriceTable;
}

/** What every door of routeRequest applies. */
export interface ResolvedRouterOptions {
  readonly authorize?: Authorize;
  readonly index?: SessionIndex;
  readonly prices?: PriceTable;
  /** The server's agents, when routeRequest was given one. */
  readonly agents?: readonly string[];
}

/**
 * 500: routeRequest's options contradict the server's (`conflicting_options`: another
 * `authorize`, `index` or `prices` than the server was created with) or miss what a route
 * needs (`mcp_agents_missing`). An operator error: every request it touches is refused.
 */
export class RouterOptionsError extends DurableAgentsError {
  override name = "RouterOptionsError";
  constructor(
    code: "conflicting_options" | "mcp_agents_missing",
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, 500, message, false, { details });
  }
}

function conflicting(option: "authorize" | "index" | "prices"): RouterOptionsError {
  return new RouterOptionsError(
    "conflicting_options",
    option === "authorize"
      ? "routeRequest was given `server` and another `authorize` than the server's: the Worker's routes would let in other requests than the sessions do. Declare `authorize` once, in createAgentServer, and give routeRequest only `server` (docs/api.md#auth)"
      : `routeRequest was given \`server\` and another \`${option}\` than the server's: the Worker's routes would read other values than the sessions write. Declare \`${option}\` once, in createAgentServer, and give routeRequest only \`server\``,
    { option },
  );
}

/** The agents `/mcp/:agent` serves: `mcp.agents`, else the server's. */
export function mcpAgents(
  listed: readonly string[] | undefined,
  resolved: ResolvedRouterOptions,
): readonly string[] {
  const agents = listed ?? resolved.agents;
  if (agents) return agents;
  throw new RouterOptionsError(
    "mcp_agents_missing",
    "routeRequest's `mcp` has no `agents` and routeRequest no `server`: give `server: AgentSession` (all of its agents are served) or list `mcp.agents`",
  );
}

/**
 * The servers createAgentServer made in this isolate (declareServerRule): how many, and the
 * `authorize` rules they were given (a server given none checks signed tokens).
 */
export interface DeclaredServers {
  servers: number;
  readonly rules: Set<Authorize>;
}

const declared: DeclaredServers = { servers: 0, rules: new Set() };
let told = false;

/** Called by createAgentServer with the rule it was given, so routeRequest can tell when it differs. */
export function declareServerRule(rule: Authorize | undefined): void {
  declared.servers += 1;
  if (rule) declared.rules.add(rule);
}

/**
 * Whether routeRequest's own rule (the older form, no `server`) differs from what the servers
 * of this isolate check: a rule none of them was given (they check tokens, or another rule),
 * or none (signed tokens) where a server was given a rule. False before any server is made.
 */
export function ruleNotApplied(
  rule: Authorize | undefined,
  servers: DeclaredServers = declared,
): boolean {
  if (servers.servers === 0) return false;
  return rule ? !servers.rules.has(rule) : servers.rules.size > 0;
}

/**
 * The older form (no `server`) in a Worker whose server checks by another rule than routeRequest
 * applies: said once per isolate (not per logger, which an app may make per request), since the
 * Worker's routes and the sessions then disagree.
 */
export function warnIfRuleNotApplied(options: DeclaredOnce, logger: Logger): void {
  if (options.server || told || !ruleNotApplied(options.authorize)) return;
  told = true;
  logger.warn(
    "routeRequest was given no `server`, and checks the Worker's own routes (GET /sessions, GET /usage, /v1/stream/*, /mcp/:agent) by another `authorize` rule than createAgentServer checks the sessions by: each lets in requests the other refuses. Give routeRequest `server: AgentSession` and declare `authorize` once, in createAgentServer (docs/api.md#auth)",
    { code: "rule_not_applied" },
  );
}

/** The rule, index and prices every door applies: the server's, checked against routeRequest's own. */
export function resolveRouterOptions(options: DeclaredOnce): ResolvedRouterOptions {
  const { server } = options;
  if (!server)
    return {
      authorize: options.authorize,
      index: options.index,
      prices: options.prices,
    };
  const declared = server.options;
  for (const option of ["authorize", "index", "prices"] as const)
    if (options[option] !== undefined && options[option] !== declared[option])
      throw conflicting(option);
  return {
    authorize: declared.authorize,
    index: declared.index,
    prices: declared.prices,
    agents: server.agents,
  };
}
