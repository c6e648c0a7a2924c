import { describe, expect, it } from "vitest";
import { decideAccess, scopeOf } from "./access.ts";
import { mintIndexToken, mintSessionToken, verifySessionToken } from "./session-token.ts";

const SECRET = "unit-test-secret-0123456789abcdef";
const NOW = 1_700_000_000_000;

describe("session tokens", () => {
  it("a minted token verifies and names its session, scope and user", async () => {
    const token = await mintSessionToken(SECRET, {
      agent: "a",
      session: "s1",
      user: "u1",
      tags: ["x"],
      now: NOW,
    });
    const result = await verifySessionToken(SECRET, token, NOW + 1000);
    expect(result).toEqual({
      type: "valid",
      claims: {
        sub: "a/s1",
        scope: ["read", "write"],
        exp: NOW / 1000 + 3600,
        user: "u1",
        tags: ["x"],
      },
    });
  });

  it("rejects a wrong secret, a tampered payload, an expired token and garbage", async () => {
    const token = await mintSessionToken(SECRET, {
      agent: "a",
      session: "s1",
      now: NOW,
      ttlSeconds: 60,
    });
    expect((await verifySessionToken("other-secret", token, NOW)).type).toBe("bad_signature");
    const [p, , s] = token.split(".");
    const forged = btoa(JSON.stringify({ sub: "a/s2", scope: ["read"], exp: 9e9 })).replace(
      /=+$/,
      "",
    );
    expect((await verifySessionToken(SECRET, `${p}.${forged}.${s}`, NOW)).type).toBe(
      "bad_signature",
    );
    expect(await verifySessionToken(SECRET, token, NOW + 60_000)).toEqual({
      type: "expired",
      expiredAt: NOW + 60_000,
    });
    for (const junk of ["", "a.b", "da1.!!.x", "da1..", "x.y.z", "da1.e30.AAAA"])
      expect((await verifySessionToken(SECRET, junk, NOW)).type).toMatch(/malformed|bad_signature/);
  });

  it("a token opens only its own session and scope; index tokens open only the index", async () => {
    const token = await mintSessionToken(SECRET, {
      agent: "a",
      session: "s1",
      scope: ["read"],
      now: NOW,
    });
    const result = await verifySessionToken(SECRET, token, NOW);
    if (result.type !== "valid") throw new Error("expected valid");
    expect(decideAccess(result.claims, { sub: "a/s1", scope: "read" }).type).toBe("allowed");
    expect(decideAccess(result.claims, { sub: "a/s1", scope: scopeOf("POST") }).type).toBe(
      "missing_scope",
    );
    expect(decideAccess(result.claims, { sub: "a/s2", scope: "read" }).type).toBe("other_session");
    const index = await verifySessionToken(SECRET, await mintIndexToken(SECRET, { now: NOW }), NOW);
    if (index.type !== "valid") throw new Error("expected valid");
    expect(decideAccess(index.claims, { sub: "*", scope: "admin" }).type).toBe("allowed");
    expect(decideAccess(index.claims, { sub: "a/s1", scope: "read" }).type).toBe("other_session");
  });
});
