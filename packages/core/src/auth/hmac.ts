/**
 * HMAC-SHA256 over text with a text secret, for the signed tokens (session tokens,
 * subscription wake tokens). Web Crypto only, so it runs in workerd, Node and browsers.
 * Verification goes through `crypto.subtle.verify`, which compares in constant time.
 */
import { toBase64Url } from "./base64url.ts";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

/** base64url (unpadded) HMAC-SHA256 of `data`. */
export async function hmacSign(secret: string, data: string): Promise<string> {
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(data));
  return toBase64Url(new Uint8Array(signature));
}

/** Whether `signature` (raw bytes) is the HMAC-SHA256 of `data` under `secret`. */
export async function hmacVerify(
  secret: string,
  signature: Uint8Array<ArrayBuffer>,
  data: string,
): Promise<boolean> {
  return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, encoder.encode(data));
}

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    if (keys.size > 8) keys.clear();
    keys.set(secret, key);
  }
  return key;
}
