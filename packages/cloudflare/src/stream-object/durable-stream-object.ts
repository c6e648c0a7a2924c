/**
 * One Durable Object per stream. Thin: it wires core's protocol handler to DO SQLite, an
 * alarm for expiry, in-process waiters, RPC for forks, and subscription events. The object
 * named `__ds` runs the subscription registry instead. Logic lives in
 * `@durable-agents/core/streams`.
 */
import { DurableObject } from "cloudflare:workers";
import { consoleLogger } from "@durable-agents/core";
import {
  type AppendInput,
  type AppendReply,
  appendTo,
  expireIfDue,
  type ForkGrant,
  type ForkGrantRequest,
  formatOffset,
  GroupCommit,
  grantFork,
  handleStreamRequest,
  readInherited,
  releaseForkReference,
  type StoredChunk,
  type StreamContext,
  type StreamMeta,
  type SubscriptionRegistry,
  Waiters,
} from "@durable-agents/core/streams";
import { drainBody } from "../http/drain-body.ts";
import { doPeers, type StreamObjectRpc } from "./do-peers.ts";
import {
  createRegistry,
  REGISTRY_NAME,
  type RegistryRpc,
  registryStub,
} from "./registry-object.ts";
import { type RpcResult, toRpcResult } from "./rpc-result.ts";
import { SqliteStreamStore } from "./sqlite-stream-store.ts";
import { type StreamVars, streamConfigFromVars } from "./stream-config.ts";
import { WatchFlag } from "./watch-flag.ts";

export interface StreamObjectEnv extends StreamVars {
  readonly STREAMS: DurableObjectNamespace;
  /** Optional HMAC secret for subscription wake tokens; by default the registry makes one. */
  readonly STREAMS_TOKEN_SECRET?: string;
}

export class DurableStreamObject
  extends DurableObject<StreamObjectEnv>
  implements StreamObjectRpc, RegistryRpc
{
  private readonly store: SqliteStreamStore;
  private readonly watched: WatchFlag;
  private readonly waiters = new Waiters();
  /** Appends that arrive while a commit is in flight share the next one. */
  private readonly appends: GroupCommit;
  private alarmAt: number | null = null;
  private streamCtx: StreamContext | null = null;
  private registryInstance: SubscriptionRegistry | null = null;
  private streamRootUrl = "";

  constructor(ctx: DurableObjectState, env: StreamObjectEnv) {
    super(ctx, env);
    this.store = new SqliteStreamStore(ctx.storage);
    this.watched = new WatchFlag(ctx.storage);
    this.appends = new GroupCommit(() => ctx.storage.sync());
  }

  override async fetch(request: Request): Promise<Response> {
    const config = streamConfigFromVars(this.env);
    const url = new URL(request.url);
    const path = url.pathname.slice(config.streamRoot.length);
    this.streamRootUrl = `${url.origin}${config.streamRoot.replace(/\/$/, "")}`;
    if (path.startsWith(`${REGISTRY_NAME}/`)) {
      return this.registry().fetch(
        request,
        path.slice(REGISTRY_NAME.length + 1),
        this.streamRootUrl,
      );
    }
    const response = await handleStreamRequest(request, this.context(path), (error) =>
      consoleLogger.error("stream request failed", { path, error: String(error) }),
    );
    await drainBody(request, config.maxAppendBytes);
    return response;
  }

  /**
   * An append the Worker read from a POST (routeStreamRequest): no Request, no piped body,
   * no Response across the hop. Typed 4xx errors come back as data (RpcResult).
   */
  async append(path: string, input: AppendInput): Promise<RpcResult<AppendReply>> {
    return toRpcResult(() => appendTo(this.context(path), input));
  }

  async grantFork(path: string, request: ForkGrantRequest): Promise<RpcResult<ForkGrant>> {
    return toRpcResult(() => grantFork(this.context(path), request));
  }

  async releaseFork(path: string): Promise<void> {
    await releaseForkReference(this.context(path));
  }

  async readInherited(
    path: string,
    from: number,
    until: number,
    maxBytes: number,
  ): Promise<StoredChunk[]> {
    return readInherited(this.context(path), from, until, maxBytes);
  }

  async watch(path: string): Promise<string | null> {
    const meta = await expireIfDue(this.context(path));
    if (meta === null || meta.softDeleted) return null;
    this.watched.set(true);
    return formatOffset(meta.lineage, meta.tail);
  }

  async streamChanged(path: string, tail: string): Promise<boolean> {
    return this.registry().streamChanged(path, tail);
  }

  async streamDeleted(path: string): Promise<void> {
    this.registry().streamDeleted(path);
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    if (this.watched.isRegistry()) {
      this.registry().onAlarm();
      return;
    }
    const path = this.store.path();
    if (path !== null) await expireIfDue(this.context(path));
  }

  private registry(): SubscriptionRegistry {
    this.watched.markRegistry();
    this.registryInstance ??= createRegistry(
      this.ctx,
      this.env.STREAMS,
      () => this.streamRootUrl,
      this.env.STREAMS_TOKEN_SECRET,
    );
    return this.registryInstance;
  }

  private context(path: string): StreamContext {
    if (this.streamCtx?.path === path) return this.streamCtx;
    this.store.pathForWrites = path;
    const registry = (): RegistryRpc => registryStub(this.env.STREAMS);
    const report = async (meta: StreamMeta): Promise<void> => {
      this.watched.set(await registry().streamChanged(path, formatOffset(meta.lineage, meta.tail)));
    };
    this.streamCtx = {
      path,
      store: this.store,
      waiters: this.waiters,
      appends: this.appends,
      peers: doPeers(this.env.STREAMS),
      config: streamConfigFromVars(this.env),
      now: Date.now,
      hooks: {
        expiryDue: (at) => this.scheduleAlarm(at),
        created: report,
        appended: (meta) => (this.watched.get() ? report(meta) : undefined),
        deleted: async () => {
          this.watched.set(false);
          await registry().streamDeleted(path);
        },
      },
    };
    return this.streamCtx;
  }

  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }
}
