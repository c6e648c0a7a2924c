/**
 * The CLI's one line for a 403 `wrong_session`: it names the token the route takes, and says
 * "for this session" only when that is a session token (the index is no session).
 */
import { describe, expect, it } from "vitest";
import { authAdvice } from "../src/cli/auth.ts";
import { DurableAgentsClientError } from "../src/errors.ts";

function wrongSession(mint: string, message: string): DurableAgentsClientError {
  return new DurableAgentsClientError("wrong_session", message, {
    status: 403,
    details: { mint },
  });
}

describe("authAdvice for wrong_session", () => {
  it("asks for a session token for this session on a session route", () => {
    const advice = authAdvice(
      wrongSession("mintSessionToken", 'the token is for "assistant/demo", not "assistant/x"'),
      true,
    );
    expect(advice).toContain("mint one with mintSessionToken");
    expect(advice).toContain("for this session");
  });

  it("asks for an index token, not one 'for this session', on the index routes", () => {
    const advice = authAdvice(
      wrongSession("mintIndexToken", 'the token is for "assistant/demo", not the index'),
      true,
    );
    expect(advice).toContain("mint one with mintIndexToken");
    expect(advice).not.toContain("for this session");
    expect(advice).toContain("--token <token> or set DURABLE_AGENTS_TOKEN");
  });
});
