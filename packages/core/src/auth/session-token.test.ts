import { describe, expect, it } from "vitest";
import { agentSub, decideAccess, mcpSub, scopeOf, streamSub } from "./access.ts";
import {
  mintIndexToken,
  mintSessionToken,
  mintStreamToken,
  signClaims,
  verifySessionToken,
} from "./session-token.ts";

const SECRET = "unit-test-secret-0123456789abcdef";
const NOW = 1_700_000_000_000;

describe("session tokens", () => {
  it("minting without a secret says which secret, not Web Crypto's zero-length key error", async () => {
    // The docs' one-liner reads process.env.AUTH_SECRET: unset in the shell, it is undefined.
    const missing = [undefined, ""] as unknown as string[];
    for (const secret of missing) {
      const mints = [
        () => mintSessionToken(secret, { agent: "a", session: "s1" }),
        () => mintIndexToken(secret),
        () => mintStreamToken(secret, { stream: "chat/1" }),
      ];
      for (const mint of mints)
        await expect(mint()).rejects.toMatchObject({
          code: "auth_not_configured",
          message: expect.stringMatching(/needs the server's AUTH_SECRET.*export AUTH_SECRET/),
        });
    }
  });

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

  it("a stream token opens its stream; a prefix token the streams under it, on segment boundaries", async () => {
    const claims = async (token: string) => {
      const result = await verifySessionToken(SECRET, token, NOW);
      if (result.type !== "valid") throw new Error("expected valid");
      return result.claims;
    };
    const one = await claims(
      await mintStreamToken(SECRET, { stream: "chat/a", scope: ["read"], now: NOW }),
    );
    expect(one).toMatchObject({ sub: "stream:chat/a", scope: ["read"] });
    expect(one.prefix).toBeUndefined();
    const read = (path: string) => ({ sub: streamSub(path), scope: "read" as const });
    expect(decideAccess(one, read("chat/a")).type).toBe("allowed");
    expect(decideAccess(one, read("chat/a/b")).type).toBe("other_session");
    expect(decideAccess(one, { ...read("chat/a"), scope: "write" }).type).toBe("missing_scope");

    const folder = await claims(await mintStreamToken(SECRET, { prefix: "chat", now: NOW }));
    expect(folder).toMatchObject({ sub: "stream:chat", prefix: true });
    for (const path of ["chat", "chat/a", "chat/a/b"])
      expect(decideAccess(folder, read(path)).type, path).toBe("allowed");
    for (const path of ["chatroom", "cha", "other/chat", "__ds/jwks.json"])
      expect(decideAccess(folder, read(path)).type, path).toBe("other_session");
    expect(decideAccess(folder, { sub: "chat/a", scope: "read" }).type).toBe("other_session");

    const all = await claims(await mintStreamToken(SECRET, { prefix: "", now: NOW }));
    expect(decideAccess(all, read("anything/at/all")).type).toBe("allowed");
    expect(decideAccess(all, { sub: "a/s1", scope: "read" }).type).toBe("other_session");
    expect(decideAccess(all, { sub: "*", scope: "read" }).type).toBe("other_session");
  });

  for (const [name, sub] of [
    ["MCP door (mcp:<agent>)", mcpSub],
    ["chat door for a body naming no session (agent:<agent>)", agentSub],
  ] as const)
    it(`an agent's ${name} opens to a session token of that agent, and nothing else`, async () => {
      const claims = async (token: string) => {
        const result = await verifySessionToken(SECRET, token, NOW);
        if (result.type !== "valid") throw new Error("expected valid");
        return result.claims;
      };
      const door = { sub: sub("a"), scope: "read" as const };
      const session = await claims(
        await mintSessionToken(SECRET, { agent: "a", session: "s1", now: NOW }),
      );
      expect(decideAccess(session, door).type).toBe("allowed");
      expect(decideAccess(session, { sub: sub("ab"), scope: "read" }).type).toBe("other_session");
      const other = await claims(
        await mintSessionToken(SECRET, { agent: "b", session: "a", now: NOW }),
      );
      expect(decideAccess(other, door).type).toBe("other_session");
      // An agent whose name starts with this one's ("ab" and "a") is another agent.
      const longer = await claims(
        await mintSessionToken(SECRET, { agent: "ab", session: "s1", now: NOW }),
      );
      expect(decideAccess(longer, door).type).toBe("other_session");
      const index = await claims(await mintIndexToken(SECRET, { now: NOW }));
      expect(decideAccess(index, door).type).toBe("other_session");
      const streams = await claims(await mintStreamToken(SECRET, { prefix: "", now: NOW }));
      expect(decideAccess(streams, door).type).toBe("other_session");
      const forged = await claims(
        await signClaims(SECRET, {
          sub: "a/",
          prefix: true,
          scope: ["read"],
          exp: NOW / 1000 + 60,
        }),
      );
      expect(decideAccess(forged, door).type).toBe("other_session");
    });

  it("a prefix claim on a session or index subject opens nothing beyond it", async () => {
    const token = await signClaims(SECRET, {
      sub: "a/",
      prefix: true,
      scope: ["read", "write", "admin"],
      exp: NOW / 1000 + 60,
    });
    const result = await verifySessionToken(SECRET, token, NOW);
    if (result.type !== "valid") throw new Error("expected valid");
    expect(decideAccess(result.claims, { sub: "a/s1", scope: "read" }).type).toBe("other_session");
    const forged = await signClaims(SECRET, {
      sub: "stream:",
      prefix: "yes" as unknown as true,
      scope: ["read"],
      exp: NOW / 1000 + 60,
    });
    expect((await verifySessionToken(SECRET, forged, NOW)).type).toBe("malformed");
  });
});
