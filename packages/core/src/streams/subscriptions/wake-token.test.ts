import { describe, expect, it } from "vitest";
import { fromBase64Url, toBase64Url } from "../../auth/base64url.ts";
import { mintWakeToken, verifyWakeToken, WAKE_TOKEN_TTL_MS } from "./wake-token.ts";

const SECRET = "wake-token-test-secret-0123456789abcdef";
const NOW = 1_700_000_000_000;
const WAKE = { sub: "s1", wid: "w_1", gen: 3, kind: "claim", jti: "ct_1" } as const;

function decode(part: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(fromBase64Url(part)));
}

describe("wake tokens", () => {
  it("are HS256 JWTs carrying the subscription, wake, generation, kind and expiry", async () => {
    const token = await mintWakeToken(SECRET, WAKE, NOW);
    const [header = "", payload = ""] = token.split(".");
    expect(token.split(".")).toHaveLength(3);
    expect(decode(header)).toEqual({ alg: "HS256", typ: "JWT" });
    expect(decode(payload)).toEqual({
      ...WAKE,
      iat: NOW / 1000,
      exp: (NOW + WAKE_TOKEN_TTL_MS) / 1000,
    });
    const check = await verifyWakeToken(SECRET, token, NOW + WAKE_TOKEN_TTL_MS - 1000);
    expect(check).toEqual({ type: "valid", claims: decode(payload) });
  });

  it("refuses a changed payload under the original signature", async () => {
    const [header, payload = "", signature] = (await mintWakeToken(SECRET, WAKE, NOW)).split(".");
    const forged = toBase64Url(
      new TextEncoder().encode(JSON.stringify({ ...decode(payload), sub: "s2" })),
    );
    const check = await verifyWakeToken(SECRET, `${header}.${forged}.${signature}`, NOW);
    expect(check.type).toBe("bad_signature");
  });

  it("refuses a token signed with another secret", async () => {
    const token = await mintWakeToken("another-secret-0123456789abcdef-xyz", WAKE, NOW);
    expect((await verifyWakeToken(SECRET, token, NOW)).type).toBe("bad_signature");
  });

  it("refuses an expired token, checking the signature first", async () => {
    const token = await mintWakeToken(SECRET, WAKE, NOW);
    expect(await verifyWakeToken(SECRET, token, NOW + WAKE_TOKEN_TTL_MS)).toEqual({
      type: "expired",
      expiredAt: NOW + WAKE_TOKEN_TTL_MS,
    });
    expect((await verifyWakeToken("x".repeat(40), token, NOW + WAKE_TOKEN_TTL_MS)).type).toBe(
      "bad_signature",
    );
  });

  it("refuses random ids, other algorithms and garbage as malformed", async () => {
    const token = await mintWakeToken(SECRET, WAKE, NOW);
    const [, payload, signature] = token.split(".");
    const none = toBase64Url(new TextEncoder().encode(JSON.stringify({ alg: "none" })));
    for (const bad of [
      "cb_0123456789abcdef",
      "",
      "a.b",
      `${none}.${payload}.${signature}`,
      "a.b.c!",
    ])
      expect((await verifyWakeToken(SECRET, bad, NOW)).type).toBe("malformed");
  });
});
