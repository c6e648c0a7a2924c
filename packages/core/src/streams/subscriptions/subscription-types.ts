/** Subscriptions (PROTOCOL.md 6-7): configuration, durable state, and the ports they use. */
import { BadRequestError } from "../../errors/http-errors.ts";
import { assertStreamPath } from "../stream-path.ts";
import { validateWebhookUrl } from "./webhook-url.ts";

export interface SubscriptionConfig {
  readonly type: "webhook" | "pull-wake";
  readonly pattern: string | null;
  readonly streams: readonly string[];
  readonly webhookUrl: string | null;
  readonly wakeStream: string | null;
  readonly leaseTtlMs: number;
  readonly description: string | null;
}

export interface StreamLink {
  readonly glob: boolean;
  readonly explicit: boolean;
  readonly acked: string;
  readonly tail: string;
}

export interface Wake {
  readonly id: string;
  readonly generation: number;
  /**
   * Id (`jti`) of the signed token issued for this wake (see `wake-token.ts`); null for a
   * pull-wake nobody has claimed. The token itself is not stored.
   */
  readonly token: string | null;
  readonly holder: string | null;
  readonly leaseUntil: number | null;
  /** Tail offsets handed to the worker with this wake. */
  readonly snapshot: Readonly<Record<string, string>>;
}

export interface Subscription {
  readonly id: string;
  readonly config: SubscriptionConfig;
  readonly origin: string;
  readonly createdAt: string;
  readonly links: Readonly<Record<string, StreamLink>>;
  readonly generation: number;
  readonly wake: Wake | null;
  readonly status: "active" | "failed";
  readonly attempts: number;
  readonly nextAttemptAt: number | null;
}

/**
 * Durable key-value rows of the registry: `sub:<id>`, `stream:<path>`, `signing-key`,
 * `token-secret`.
 */
export interface SubscriptionStorage {
  get<T>(key: string): T | null;
  put(key: string, value: unknown): void;
  delete(key: string): void;
  list<T>(prefix: string): T[];
}

export interface SubscriptionEffects {
  now(): number;
  /** POST a signed webhook; resolve with the parsed JSON reply, reject on failure. */
  deliverWebhook(url: string, body: string, signature: string): Promise<unknown>;
  /** Append a wake event to a pull-wake stream. */
  appendWake(streamPath: string, event: Record<string, unknown>): Promise<void>;
  /** Ask a stream to report its appends; resolves with its tail offset, or null if it does not exist. */
  watchStream(path: string): Promise<string | null>;
  /** Run `onAlarm` at this time (leases, retries). */
  scheduleAt(atMs: number): void;
}

const MIN_LEASE = 1_000;
/** The `lease_ttl_ms` ceiling (PROTOCOL.md 6.2); wake tokens live this long. */
export const MAX_LEASE_TTL_MS = 600_000;

export function parseSubscriptionConfig(body: unknown): SubscriptionConfig {
  if (typeof body !== "object" || body === null) throw invalid("body must be a JSON object");
  const b = body as Record<string, unknown>;
  if (b.type !== "webhook" && b.type !== "pull-wake")
    throw invalid('type must be "webhook" or "pull-wake"');
  const pattern = typeof b.pattern === "string" && b.pattern !== "" ? b.pattern : null;
  const streams = Array.isArray(b.streams) ? streamPaths(b.streams, "streams") : [];
  if (pattern === null && streams.length === 0)
    throw invalid("give a pattern, a streams[] list, or both");
  const lease = b.lease_ttl_ms === undefined ? 30_000 : Number(b.lease_ttl_ms);
  if (!Number.isInteger(lease) || lease < MIN_LEASE || lease > MAX_LEASE_TTL_MS)
    throw invalid("lease_ttl_ms must be an integer from 1000 to 600000");
  const webhook = b.webhook as { url?: unknown } | undefined;
  const webhookUrl = b.type === "webhook" ? validateWebhookUrl(webhook?.url) : null;
  const wakeStream =
    b.type === "pull-wake"
      ? typeof b.wake_stream === "string" && b.wake_stream !== ""
        ? b.wake_stream
        : null
      : null;
  if (b.type === "pull-wake" && wakeStream === null)
    throw invalid("pull-wake subscriptions need wake_stream, the stream that receives wake events");
  if (wakeStream !== null) assertStreamPath(wakeStream, "wake_stream");
  const description = typeof b.description === "string" ? b.description : null;
  return { type: b.type, pattern, streams, webhookUrl, wakeStream, leaseTtlMs: lease, description };
}

export function sameConfig(a: SubscriptionConfig, b: SubscriptionConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The string entries of a body's stream list, each a stream path (assertStreamPath), deduplicated and sorted. */
export function streamPaths(list: readonly unknown[], field: string): string[] {
  const paths = new Set<string>();
  for (const [i, path] of list.entries()) {
    if (typeof path !== "string") continue;
    assertStreamPath(path, `${field}[${i}]`);
    paths.add(path);
  }
  return [...paths].sort();
}

function invalid(message: string): BadRequestError {
  return new BadRequestError("INVALID_SUBSCRIPTION", `subscription: ${message}`);
}
