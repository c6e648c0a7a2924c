/** Ed25519 webhook signing (PROTOCOL.md 6.5, 7.1): one key per server, published as a JWKS. */
import { toBase64Url } from "../../auth/base64url.ts";

export interface SigningKey {
  readonly kid: string;
  readonly publicJwk: JsonWebKey;
  readonly privateJwk: JsonWebKey;
}

const encoder = new TextEncoder();

export async function generateSigningKey(): Promise<SigningKey> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const publicJwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  const privateJwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  // RFC 7638 thumbprint of the public key: required members in lexicographic order.
  const thumbprint = JSON.stringify({ crv: publicJwk.crv, kty: publicJwk.kty, x: publicJwk.x });
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(thumbprint)));
  return { kid: `ds_${toBase64Url(digest).slice(0, 22)}`, publicJwk, privateJwk };
}

export function jwks(key: SigningKey): { keys: Record<string, unknown>[] } {
  const { kty, crv, x } = key.publicJwk;
  return { keys: [{ kty, crv, x, kid: key.kid, use: "sig", alg: "EdDSA" }] };
}

/** `t=<unix seconds>,kid=<kid>,ed25519=<base64url signature over "<t>.<body>">`. */
export async function signWebhook(key: SigningKey, body: string, nowMs: number): Promise<string> {
  const timestamp = Math.floor(nowMs / 1000);
  const privateKey = await crypto.subtle.importKey(
    "jwk",
    key.privateJwk,
    { name: "Ed25519" },
    false,
    ["sign"],
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign(
      { name: "Ed25519" },
      privateKey,
      encoder.encode(`${timestamp}.${body}`),
    ),
  );
  return `t=${timestamp},kid=${key.kid},ed25519=${toBase64Url(signature)}`;
}
