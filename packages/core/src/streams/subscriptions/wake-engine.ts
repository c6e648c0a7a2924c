/**
 * Wakes (PROTOCOL.md 7): a subscription with pending work and no wake in flight gets a new
 * generation. Webhooks are signed and POSTed; pull-wake writes a wake event.
 *
 * Invariants:
 * 1. `generation` only grows; a wake's id and token id are fresh per generation, and its
 *    token is signed (`wake-token.ts`) when it is handed out.
 * 2. Acks apply only for the current wake (`fenced` otherwise), so stale workers cannot move cursors.
 * 3. After a wake ends, pending work (tail > acked) starts the next wake.
 */
import type { RegistryKeys } from "./registry-keys.ts";
import { signWebhook } from "./signing-keys.ts";
import type {
  Subscription,
  SubscriptionEffects,
  SubscriptionStorage,
  Wake,
} from "./subscription-types.ts";
import { mintWakeToken } from "./wake-token.ts";

export function hasPending(sub: Subscription): boolean {
  return Object.values(sub.links).some((link) => link.tail > link.acked);
}

export function randomId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return prefix + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function streamsView(sub: Subscription, snapshot: Readonly<Record<string, string>> | null) {
  return Object.entries(sub.links).map(([path, link]) => ({
    path,
    link_type: link.explicit ? "explicit" : "glob",
    acked_offset: link.acked,
    tail_offset: snapshot?.[path] ?? link.tail,
    has_pending: (snapshot?.[path] ?? link.tail) > link.acked,
  }));
}

export class WakeEngine {
  private readonly storage: SubscriptionStorage;
  private readonly effects: SubscriptionEffects;
  private readonly keys: RegistryKeys;

  constructor(storage: SubscriptionStorage, effects: SubscriptionEffects, keys: RegistryKeys) {
    this.storage = storage;
    this.effects = effects;
    this.keys = keys;
  }

  load(id: string): Subscription | null {
    return this.storage.get<Subscription>(`sub:${id}`);
  }

  save(sub: Subscription): void {
    this.storage.put(`sub:${sub.id}`, sub);
    if (sub.wake?.leaseUntil != null) this.effects.scheduleAt(sub.wake.leaseUntil);
    if (sub.nextAttemptAt !== null) this.effects.scheduleAt(sub.nextAttemptAt);
  }

  /** Start a wake if there is pending work and none is in flight. */
  maybeWake(sub: Subscription): void {
    if (sub.wake !== null || !hasPending(sub)) return;
    if (sub.nextAttemptAt !== null && sub.nextAttemptAt > this.effects.now()) return;
    const snapshot = Object.fromEntries(
      Object.entries(sub.links).map(([path, link]) => [path, link.tail]),
    );
    const generation = sub.generation + 1;
    const webhook = sub.config.type === "webhook";
    const wake: Wake = {
      id: randomId("w_"),
      generation,
      token: webhook ? randomId("cb_") : null,
      holder: webhook ? "webhook" : null,
      leaseUntil: webhook ? this.effects.now() + sub.config.leaseTtlMs : null,
      snapshot,
    };
    const next: Subscription = { ...sub, generation, wake };
    this.save(next);
    if (webhook) void this.deliver(next, wake);
    else void this.writeWakeEvents(next, wake);
  }

  /** End the current wake: apply acks, release the lease, wake again if work remains. */
  finish(
    sub: Subscription,
    acks: readonly { stream: string; offset: string }[],
    applySnapshot: boolean,
  ): boolean {
    const links = { ...sub.links };
    if (applySnapshot && sub.wake !== null) {
      for (const [path, tail] of Object.entries(sub.wake.snapshot)) {
        const link = links[path];
        if (link !== undefined && tail > link.acked) links[path] = { ...link, acked: tail };
      }
    }
    for (const ack of acks) {
      const link = links[ack.stream];
      if (link !== undefined && ack.offset > link.acked)
        links[ack.stream] = { ...link, acked: ack.offset };
    }
    const next: Subscription = {
      ...sub,
      links,
      wake: null,
      status: "active",
      attempts: 0,
      nextAttemptAt: null,
    };
    this.save(next);
    const pending = hasPending(next);
    if (pending) this.maybeWake(next);
    return pending;
  }

  private async deliver(sub: Subscription, wake: Wake): Promise<void> {
    let reply: unknown;
    try {
      const now = this.effects.now();
      const callbackToken = await mintWakeToken(
        this.keys.tokenSecret(),
        {
          sub: sub.id,
          wid: wake.id,
          gen: wake.generation,
          kind: "callback",
          jti: wake.token ?? "",
        },
        now,
      );
      const body = JSON.stringify({
        subscription_id: sub.id,
        wake_id: wake.id,
        generation: wake.generation,
        streams: streamsView(sub, wake.snapshot),
        callback_url: `${sub.origin}/__ds/subscriptions/${sub.id}/callback`,
        callback_token: callbackToken,
      });
      reply = await this.effects.deliverWebhook(
        sub.config.webhookUrl ?? "",
        body,
        await signWebhook(await this.keys.signingKey(), body, now),
      );
    } catch {
      this.failed(sub.id, wake.id);
      return;
    }
    const current = this.load(sub.id);
    if (current?.wake?.id !== wake.id) return;
    if (typeof reply === "object" && reply !== null && (reply as { done?: unknown }).done === true)
      this.finish(current, [], true);
  }

  /** Delivery failed: retry with exponential backoff from 1 s to 60 s, 20% jitter; persisted. */
  private failed(id: string, wakeId: string): void {
    const current = this.load(id);
    if (current?.wake?.id !== wakeId) return;
    const attempts = current.attempts + 1;
    const base = Math.min(60_000, 1_000 * 2 ** (attempts - 1));
    const delay = base * (0.8 + Math.random() * 0.4);
    this.save({
      ...current,
      wake: null,
      status: "failed",
      attempts,
      nextAttemptAt: this.effects.now() + delay,
    });
  }

  private async writeWakeEvents(sub: Subscription, wake: Wake): Promise<void> {
    const stream = sub.config.wakeStream;
    if (stream === null) return;
    for (const [path, link] of Object.entries(sub.links)) {
      if (link.tail <= link.acked) continue;
      await this.effects
        .appendWake(stream, {
          type: "wake",
          subscription_id: sub.id,
          stream: path,
          generation: wake.generation,
          ts: this.effects.now(),
        })
        .catch(() => {});
    }
  }
}
