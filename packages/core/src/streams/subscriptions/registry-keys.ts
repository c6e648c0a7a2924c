/**
 * The registry's two secrets, both kept in its storage so no configuration is needed:
 * the Ed25519 webhook signing key (`signing-key`, published as a JWKS) and the HMAC secret
 * that signs wake tokens (`token-secret`, 256 random bits, made on first use). A deployment
 * can pin the token secret instead (`STREAMS_TOKEN_SECRET` on Cloudflare); changing it
 * invalidates the tokens of wakes in flight, which are then redelivered after their lease.
 */
import { toBase64Url } from "../../auth/base64url.ts";
import { generateSigningKey, type SigningKey } from "./signing-keys.ts";
import { subscriptionError } from "./subscription-errors.ts";
import type { SubscriptionStorage } from "./subscription-types.ts";

/** Shortest accepted token secret override: 32 characters. */
export const MIN_TOKEN_SECRET_CHARS = 32;

export class RegistryKeys {
  private readonly storage: SubscriptionStorage;
  private readonly secretOverride: string | undefined;
  private keyPromise: Promise<SigningKey> | null = null;
  private secret: string | null = null;

  constructor(storage: SubscriptionStorage, tokenSecret?: string) {
    this.storage = storage;
    this.secretOverride = tokenSecret === "" ? undefined : tokenSecret;
  }

  signingKey(): Promise<SigningKey> {
    this.keyPromise ??= (async () => {
      const stored = this.storage.get<SigningKey>("signing-key");
      if (stored !== null) return stored;
      const key = await generateSigningKey();
      this.storage.put("signing-key", key);
      return key;
    })();
    return this.keyPromise;
  }

  /** The active signing key's id, or "" before the key exists. */
  kid(): string {
    return this.storage.get<SigningKey>("signing-key")?.kid ?? "";
  }

  /** The HMAC secret for wake tokens; throws (500) if the configured override is too short. */
  tokenSecret(): string {
    if (this.secret !== null) return this.secret;
    const override = this.secretOverride;
    if (override !== undefined) {
      if (override.length < MIN_TOKEN_SECRET_CHARS)
        throw subscriptionError(
          "TOKEN_SECRET_INVALID",
          500,
          `the subscription token secret has ${override.length} characters; set one of at least ${MIN_TOKEN_SECRET_CHARS} (e.g. \`openssl rand -base64 32\`), or unset it to use the secret the registry generates`,
        );
      this.secret = override;
      return override;
    }
    let stored = this.storage.get<string>("token-secret");
    if (stored === null) {
      stored = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
      this.storage.put("token-secret", stored);
    }
    this.secret = stored;
    return stored;
  }
}
