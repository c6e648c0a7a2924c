/**
 * One Durable Object per stream. Thin: it wires core's protocol handler to DO SQLite, an
 * alarm for expiry, in-process waiters, and RPC for forks. The logic lives in
 * `@durable-agents/core/streams`.
 */
import { DurableObject } from "cloudflare:workers";
import {
  expireIfDue,
  type ForkGrant,
  type ForkGrantRequest,
  grantFork,
  handleStreamRequest,
  readInherited,
  releaseForkReference,
  type StoredChunk,
  type StreamContext,
  Waiters,
} from "@durable-agents/core/streams";
import { doPeers, type StreamObjectRpc } from "./do-peers.ts";
import { type RpcResult, toRpcResult } from "./rpc-result.ts";
import { SqliteStreamStore } from "./sqlite-stream-store.ts";
import { type StreamVars, streamConfigFromVars } from "./stream-config.ts";

export interface StreamObjectEnv extends StreamVars {
  readonly STREAMS: DurableObjectNamespace;
}

export class DurableStreamObject extends DurableObject<StreamObjectEnv> implements StreamObjectRpc {
  private readonly store: SqliteStreamStore;
  private readonly waiters = new Waiters();
  private alarmAt: number | null = null;
  private streamCtx: StreamContext | null = null;

  constructor(ctx: DurableObjectState, env: StreamObjectEnv) {
    super(ctx, env);
    this.store = new SqliteStreamStore(ctx.storage);
  }

  override async fetch(request: Request): Promise<Response> {
    const config = streamConfigFromVars(this.env);
    const path = new URL(request.url).pathname.slice(config.streamRoot.length);
    return handleStreamRequest(request, this.context(path));
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

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const path = this.store.path();
    if (path === null) return;
    await expireIfDue(this.context(path));
  }

  private context(path: string): StreamContext {
    if (this.streamCtx?.path === path) return this.streamCtx;
    this.store.pathForWrites = path;
    this.streamCtx = {
      path,
      store: this.store,
      waiters: this.waiters,
      peers: doPeers(this.env.STREAMS),
      config: streamConfigFromVars(this.env),
      now: Date.now,
      hooks: { expiryDue: (at) => this.scheduleAlarm(at) },
    };
    return this.streamCtx;
  }

  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }
}
