import { env } from "cloudflare:test";
import { silentLogger } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { type Authorize, allowLocalDev, createAgentServer, routeRequest } from "../src/index.ts";
import { ruleNotApplied } from "../src/router-options.ts";
import { chatty } from "./fixture/agents.ts";

/**
 * `allowLocalDev()` written twice, once for createAgentServer and once for routeRequest, is one
 * rule: equal options make the same rule, so the Worker is not refused with 500
 * `conflicting_options` (nor told `rule_not_applied`) for writing the same thing twice.
 * Different options are still different rules.
 */

function server(authorize: Authorize) {
  return createAgentServer({
    agents: [chatty],
    binding: "AGENTS",
    agentWorkflow: "NO_AGENT_WORKFLOW",
    authorize,
  });
}

/** GET /sessions from this machine's tools, with the fixture's AUTH_SECRET or (`unset`) none. */
async function index(
  declared: Authorize,
  given: Authorize,
  secret: "unset" | "set" = "set",
): Promise<{ status: number; code?: string }> {
  const response = await routeRequest(
    new Request("http://127.0.0.1:8787/sessions"),
    secret === "set" ? env : { ...env, AUTH_SECRET: undefined },
    undefined,
    { server: server(declared), authorize: given, logger: silentLogger },
  );
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code };
}

describe("allowLocalDev() with equal options is one rule", () => {
  it("given to createAgentServer and to routeRequest, it is applied, not refused as conflicting_options", async () => {
    // AUTH_SECRET unset: local dev lets this machine in (no index here: 404 index_off).
    expect(await index(allowLocalDev(), allowLocalDev(), "unset")).toEqual({
      status: 404,
      code: "index_off",
    });
    // AUTH_SECRET set: the token check, and no token is a 401.
    expect(await index(allowLocalDev(), allowLocalDev())).toEqual({
      status: 401,
      code: "unauthorized",
    });
    // The same pages, listed in another order or spelled with a trailing slash.
    const pages = ["http://localhost:5173", "http://127.0.0.1:3000"];
    expect(
      await index(
        allowLocalDev({ origins: pages }),
        allowLocalDev({ origins: ["http://127.0.0.1:3000/", "http://localhost:5173"] }),
        "unset",
      ),
    ).toEqual({ status: 404, code: "index_off" });
  });

  it("different options are different rules: still 500 conflicting_options", async () => {
    const pages = { origins: ["http://localhost:5173"] };
    for (const [declared, given] of [
      [allowLocalDev(), allowLocalDev(pages)],
      [allowLocalDev(pages), allowLocalDev({ origins: ["http://localhost:5174"] })],
      [allowLocalDev(), () => true],
    ] as const)
      expect(await index(declared, given)).toEqual({ status: 500, code: "conflicting_options" });
  });

  it("the older form (routeRequest without `server`) is not told rule_not_applied for it", () => {
    const declared = { servers: 1, rules: new Set([allowLocalDev()]) };
    expect(ruleNotApplied(allowLocalDev(), declared)).toBe(false);
    expect(ruleNotApplied(allowLocalDev({ origins: ["http://localhost:5173"] }), declared)).toBe(
      true,
    );
  });
});
