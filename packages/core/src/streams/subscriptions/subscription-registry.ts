/**
 * The subscription registry: `{stream-root}/__ds/*` routes plus the stream events that
 * drive wakes. One registry per server (the Cloudflare adapter runs it in one object).
 */
import { BadRequestError, NotFoundError } from "../../errors/http-errors.ts";
import { errorResponse } from "../../http/error-response.ts";
import { LIMITS } from "../../http/limits.ts";
import { readOptionalJson } from "../../http/read-json.ts";
import { consoleLogger, type Logger } from "../../logger.ts";
import { withStreamHeaders } from "../http-headers.ts";
import { ZERO_OFFSET } from "../offsets.ts";
import { assertStreamPath } from "../stream-path.ts";
import { matchGlob } from "./glob.ts";
import { RegistryKeys } from "./registry-keys.ts";
import { parseRegistryPath } from "./registry-path.ts";
import { jwks, type SigningKey } from "./signing-keys.ts";
import { fenced, subscriptionError } from "./subscription-errors.ts";
import {
  parseSubscriptionConfig,
  type StreamLink,
  type Subscription,
  type SubscriptionEffects,
  type SubscriptionStorage,
  sameConfig,
  streamPaths,
} from "./subscription-types.ts";
import { authorizeSettle, type SettleAction } from "./wake-auth.ts";
import { hasPending, randomId, streamsView, WakeEngine } from "./wake-engine.ts";
import { mintWakeToken, verifyWakeToken } from "./wake-token.ts";

export interface SubscriptionRegistryOptions {
  /**
   * HMAC secret for wake tokens (at least 32 characters). Default: 256 random bits made on
   * first use and kept in the registry's storage.
   */
  readonly tokenSecret?: string;
  /** Where 5xx causes are logged; default consoleLogger. */
  readonly logger?: Logger;
}

export class SubscriptionRegistry {
  private readonly storage: SubscriptionStorage;
  private readonly effects: SubscriptionEffects;
  private readonly engine: WakeEngine;
  private readonly keys: RegistryKeys;
  private readonly logger: Logger;

  constructor(
    storage: SubscriptionStorage,
    effects: SubscriptionEffects,
    options: SubscriptionRegistryOptions = {},
  ) {
    this.storage = storage;
    this.effects = effects;
    this.keys = new RegistryKeys(storage, options.tokenSecret);
    this.logger = options.logger ?? consoleLogger;
    this.engine = new WakeEngine(storage, effects, this.keys);
  }

  /** Serve `__ds/<rest>`; `root` is the stream root URL, e.g. `https://host/v1/stream`. */
  async fetch(request: Request, rest: string, root: string): Promise<Response> {
    let response: Response;
    try {
      response = await this.route(request, rest, root);
    } catch (error) {
      response = errorResponse(error, (cause) =>
        this.logger.error("subscription request failed", { error: String(cause) }),
      );
    }
    return withStreamHeaders(response, request);
  }

  /** A stream was created or appended to. Returns whether any subscription watches it. */
  async streamChanged(path: string, tail: string): Promise<boolean> {
    this.storage.put(`stream:${path}`, { path, tail });
    let watched = false;
    for (const sub of this.storage.list<Subscription>("sub:")) {
      const link = sub.links[path];
      const glob = sub.config.pattern !== null && matchGlob(sub.config.pattern, path);
      if (link === undefined && !glob) continue;
      watched = true;
      const next: StreamLink =
        link === undefined
          ? { glob, explicit: false, acked: ZERO_OFFSET, tail }
          : { ...link, tail };
      const updated: Subscription = { ...sub, links: { ...sub.links, [path]: next } };
      this.engine.save(updated);
      this.engine.maybeWake(updated);
    }
    return watched;
  }

  streamDeleted(path: string): void {
    this.storage.delete(`stream:${path}`);
  }

  /** Expire leases and run due retries. */
  onAlarm(): void {
    const now = this.effects.now();
    for (const sub of this.storage.list<Subscription>("sub:")) {
      if (sub.wake?.leaseUntil != null && sub.wake.leaseUntil <= now) {
        const cleared: Subscription = { ...sub, wake: null };
        this.engine.save(cleared);
        this.engine.maybeWake(cleared);
      } else if (sub.wake === null && sub.nextAttemptAt !== null && sub.nextAttemptAt <= now) {
        this.engine.maybeWake(sub);
      }
    }
  }

  private async route(request: Request, rest: string, root: string): Promise<Response> {
    const key = await this.keys.signingKey();
    this.keys.tokenSecret();
    const route = parseRegistryPath(rest);
    if (route?.kind === "jwks" && request.method === "GET") {
      return Response.json(jwks(key), {
        headers: {
          "content-type": "application/jwk-set+json",
          "cache-control": "public, max-age=300",
        },
      });
    }
    if (route?.kind !== "subscription")
      throw new NotFoundError("not_found", `no subscription route at __ds/${rest.slice(0, 100)}`);
    const { id, action } = route;
    if (action === undefined) {
      if (request.method === "PUT") return this.put(id, await readJson(request), root);
      if (request.method === "GET") return Response.json(this.view(this.require(id), root));
      if (request.method === "DELETE") {
        this.storage.delete(`sub:${id}`);
        return new Response(null, { status: 204 });
      }
    }
    if (action === "streams" && request.method === "POST")
      return this.addStreams(id, await readJson(request));
    if (action === "streams" && request.method === "DELETE" && route.streamPath !== undefined) {
      assertStreamPath(route.streamPath, "DELETE .../streams/:path");
      return this.removeStream(id, route.streamPath);
    }
    if (action === "claim" && request.method === "POST")
      return this.claim(id, await readJson(request));
    if (
      (action === "callback" || action === "ack" || action === "release") &&
      request.method === "POST"
    ) {
      return this.settle(id, action, request.headers.get("authorization"), await readJson(request));
    }
    throw new BadRequestError(
      "unsupported",
      `${request.method} is not supported on __ds/${rest.slice(0, 100)}`,
    );
  }

  private async put(id: string, body: unknown, root: string): Promise<Response> {
    const config = parseSubscriptionConfig(body);
    const existing = this.engine.load(id);
    if (existing !== null) {
      if (!sameConfig(existing.config, config)) {
        throw subscriptionError(
          "SUBSCRIPTION_EXISTS",
          409,
          `subscription "${id}" exists with a different configuration; DELETE it first or PUT the same one`,
        );
      }
      return Response.json(this.view(existing, root), { status: 200 });
    }
    const links: Record<string, StreamLink> = {};
    if (config.pattern !== null) {
      for (const known of this.storage.list<{ path: string; tail: string }>("stream:")) {
        if (!matchGlob(config.pattern, known.path)) continue;
        const tail = (await this.effects.watchStream(known.path)) ?? known.tail;
        links[known.path] = { glob: true, explicit: false, acked: tail, tail };
      }
    }
    for (const path of config.streams) {
      const tail = (await this.effects.watchStream(path)) ?? ZERO_OFFSET;
      links[path] = { glob: links[path]?.glob ?? false, explicit: true, acked: tail, tail };
    }
    const sub: Subscription = {
      id,
      config,
      origin: root,
      createdAt: new Date(this.effects.now()).toISOString(),
      links,
      generation: 0,
      wake: null,
      status: "active",
      attempts: 0,
      nextAttemptAt: null,
    };
    this.engine.save(sub);
    return Response.json(this.view(sub, root), { status: 201 });
  }

  private async addStreams(id: string, body: unknown): Promise<Response> {
    const sub = this.require(id);
    const streams = (body as { streams?: unknown }).streams;
    if (!Array.isArray(streams))
      throw new BadRequestError("INVALID_SUBSCRIPTION", 'send {"streams": ["path", ...]}');
    const paths = streamPaths(streams, "streams");
    const links = { ...sub.links };
    for (const path of paths) {
      const link = links[path];
      if (link !== undefined) links[path] = { ...link, explicit: true };
      else {
        const tail = (await this.effects.watchStream(path)) ?? ZERO_OFFSET;
        links[path] = { glob: false, explicit: true, acked: tail, tail };
      }
    }
    const current = this.require(id);
    this.engine.save({
      ...current,
      links,
      config: {
        ...current.config,
        streams: [...new Set([...current.config.streams, ...paths])].sort(),
      },
    });
    return new Response(null, { status: 204 });
  }

  private removeStream(id: string, path: string): Response {
    const sub = this.require(id);
    const links = { ...sub.links };
    const link = links[path];
    if (link !== undefined) {
      if (link.glob) links[path] = { ...link, explicit: false };
      else delete links[path];
    }
    const streams = sub.config.streams.filter((s) => s !== path);
    this.engine.save({ ...sub, links, config: { ...sub.config, streams } });
    return new Response(null, { status: 204 });
  }

  private async claim(id: string, body: unknown): Promise<Response> {
    let sub = this.require(id);
    if (sub.config.type !== "pull-wake")
      throw new BadRequestError(
        "NOT_PULL_WAKE",
        `subscription "${id}" is a webhook subscription; it cannot be claimed`,
      );
    const worker =
      typeof (body as { worker?: unknown })?.worker === "string"
        ? (body as { worker: string }).worker
        : "worker";
    const now = this.effects.now();
    const held = sub.wake?.holder != null && (sub.wake.leaseUntil ?? 0) > now;
    if (held) {
      throw subscriptionError(
        "ALREADY_CLAIMED",
        409,
        `subscription "${id}" is claimed by ${sub.wake?.holder}`,
        {
          current_holder: sub.wake?.holder,
          generation: sub.generation,
        },
      );
    }
    if (sub.wake === null || sub.wake.holder !== null) {
      if (!hasPending(sub))
        throw subscriptionError(
          "NO_PENDING_WORK",
          409,
          `subscription "${id}" has no pending work to claim`,
        );
      sub = { ...sub, generation: sub.generation + 1, wake: null };
    }
    const snapshot = Object.fromEntries(
      Object.entries(sub.links).map(([path, link]) => [path, link.tail]),
    );
    const wake = {
      id: sub.wake?.id ?? randomId("w_"),
      generation: sub.generation,
      token: randomId("ct_"),
      holder: worker,
      leaseUntil: now + sub.config.leaseTtlMs,
      snapshot,
    };
    const next: Subscription = { ...sub, wake };
    this.engine.save(next);
    const token = await mintWakeToken(
      this.keys.tokenSecret(),
      { sub: id, wid: wake.id, gen: wake.generation, kind: "claim", jti: wake.token },
      now,
    );
    return Response.json({
      wake_id: wake.id,
      generation: wake.generation,
      token,
      streams: streamsView(next, snapshot),
      lease_ttl_ms: sub.config.leaseTtlMs,
    });
  }

  /** Callback, ack or release: the signed token is verified before any state is read. */
  private async settle(
    id: string,
    action: SettleAction,
    authorization: string | null,
    body: unknown,
  ): Promise<Response> {
    const b = (body ?? {}) as {
      wake_id?: unknown;
      generation?: unknown;
      acks?: unknown;
      done?: unknown;
    };
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
    const check =
      bearer === undefined
        ? ({ type: "missing" } as const)
        : await verifyWakeToken(this.keys.tokenSecret(), bearer, this.effects.now());
    const decision = authorizeSettle(check, this.engine.load(id), {
      id,
      action,
      wakeId: b.wake_id,
      generation: b.generation,
    });
    if (decision.type === "fenced") throw fenced(decision.reason, decision.message);
    const { sub, wake } = decision;
    const acks = Array.isArray(b.acks)
      ? b.acks.filter(
          (a): a is { stream: string; offset: string } =>
            typeof a?.stream === "string" && typeof a?.offset === "string",
        )
      : [];
    if (action === "release") {
      this.engine.finish(sub, [], false);
      return new Response(null, { status: 204 });
    }
    if (b.done === true)
      return Response.json({ ok: true, next_wake: this.engine.finish(sub, acks, false) });
    const links = { ...sub.links };
    for (const ack of acks) {
      const link = links[ack.stream];
      if (link !== undefined && ack.offset > link.acked)
        links[ack.stream] = { ...link, acked: ack.offset };
    }
    this.engine.save({
      ...sub,
      links,
      wake: { ...wake, leaseUntil: this.effects.now() + sub.config.leaseTtlMs },
    });
    return Response.json({ ok: true, next_wake: false });
  }

  private require(id: string): Subscription {
    const sub = this.engine.load(id);
    if (sub === null)
      throw new NotFoundError(
        "SUBSCRIPTION_NOT_FOUND",
        `subscription "${id}" does not exist; create it with PUT`,
      );
    return sub;
  }

  private view(sub: Subscription, root: string): Record<string, unknown> {
    const c = sub.config;
    return {
      id: sub.id,
      subscription_id: sub.id,
      type: c.type,
      pattern: c.pattern,
      streams: Object.entries(sub.links).map(([path, link]) => ({
        path,
        link_type: link.explicit ? "explicit" : "glob",
        acked_offset: link.acked,
      })),
      webhook:
        c.webhookUrl === null
          ? null
          : {
              url: c.webhookUrl,
              signing: { alg: "ed25519", kid: this.keys.kid(), jwks_url: `${root}/__ds/jwks.json` },
            },
      wake_stream: c.wakeStream,
      lease_ttl_ms: c.leaseTtlMs,
      created_at: sub.createdAt,
      status: sub.status,
      description: c.description,
    };
  }

  /** Make sure the signing key exists before a webhook subscription is shown. */
  ready(): Promise<SigningKey> {
    return this.keys.signingKey();
  }
}

/** The session routes' reader (its media type check and limits); an absent body is `{}`. */
function readJson(request: Request): Promise<unknown> {
  return readOptionalJson(request, LIMITS.maxBodyBytes);
}
