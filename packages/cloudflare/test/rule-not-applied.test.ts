import { env } from "cloudflare:test";
import { type Logger, silentLogger } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { type Authorize, createAgentServer, routeRequest } from "../src/index.ts";
import { ruleNotApplied } from "../src/router-options.ts";
import { chatty } from "./fixture/agents.ts";

/**
 * `rule_not_applied`: the older form (routeRequest without `server`) is told when its rule and
 * the server's differ, in either direction, and told once however its logger is made.
 */

// A server with the default rule (signed tokens), as the README's Worker declared it.
createAgentServer({ agents: [chatty], binding: "AGENTS", agentWorkflow: "NO_AGENT_WORKFLOW" });

const openDoor: Authorize = () => true;
const localRule: Authorize = () => undefined;

function recording(warnings: unknown[]): Logger {
  return { ...silentLogger, warn: (_message, fields) => void warnings.push(fields?.code) };
}

describe("rule_not_applied (routeRequest without `server`)", () => {
  it("differs in either direction: a rule on routeRequest only, or on the server only; the same rule, or none on both, does not", () => {
    const tokensOnly = { servers: 1, rules: new Set<Authorize>() };
    const ruled = { servers: 1, rules: new Set([localRule]) };
    // The Worker's routes open where the sessions ask for a token (the index, streams, MCP).
    expect(ruleNotApplied(openDoor, tokensOnly)).toBe(true);
    // The Worker's routes ask for a token where the sessions let in (the README's old gap).
    expect(ruleNotApplied(undefined, ruled)).toBe(true);
    expect(ruleNotApplied(openDoor, ruled)).toBe(true);
    expect(ruleNotApplied(localRule, ruled)).toBe(false);
    expect(ruleNotApplied(undefined, tokensOnly)).toBe(false);
    // No server made (a Worker of streams only): nothing to compare with.
    expect(ruleNotApplied(openDoor, { servers: 0, rules: new Set() })).toBe(false);
  });

  it("is told once per isolate, also to an app that makes a new logger per request", async () => {
    const warnings: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await routeRequest(
        new Request("https://agents.example.com/sessions"),
        env,
        undefined,
        // An app's logger made per request (a request id in its fields, say).
        { authorize: openDoor, logger: recording(warnings) },
      );
      // The open rule lets the index route in (no index given: 404 index_off).
      expect(response.status).toBe(404);
    }
    expect(warnings).toEqual(["rule_not_applied"]);
  });
});
