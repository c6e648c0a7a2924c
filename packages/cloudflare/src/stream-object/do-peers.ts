/** `StreamPeers` over DO-to-DO RPC: a fork reaches its source's object by name. */
import type {
  AppendInput,
  AppendReply,
  ForkGrant,
  ForkGrantRequest,
  StoredChunk,
  StreamPeers,
} from "@durable-agents/core/streams";
import { type RpcResult, unwrapRpcResult } from "./rpc-result.ts";

/** The RPC surface a stream object offers to the Worker (appends) and to its forks. */
export interface StreamObjectRpc {
  /** A POST the Worker has read (group-committed with concurrent appends; see GroupCommit). */
  append(path: string, input: AppendInput): Promise<RpcResult<AppendReply>>;
  grantFork(path: string, request: ForkGrantRequest): Promise<RpcResult<ForkGrant>>;
  releaseFork(path: string): Promise<void>;
  readInherited(
    path: string,
    from: number,
    until: number,
    maxBytes: number,
  ): Promise<StoredChunk[]>;
  /** Report appends to the subscription registry; returns the tail offset, or null if no stream. */
  watch(path: string): Promise<string | null>;
}

export function streamObjectStub(namespace: DurableObjectNamespace, path: string): StreamObjectRpc {
  return namespace.get(namespace.idFromName(path)) as unknown as StreamObjectRpc;
}

export function doPeers(namespace: DurableObjectNamespace): StreamPeers {
  return {
    grantFork: async (path, request) =>
      unwrapRpcResult(await streamObjectStub(namespace, path).grantFork(path, request)),
    releaseFork: (path) => streamObjectStub(namespace, path).releaseFork(path),
    readInherited: (path, from, until, maxBytes) =>
      streamObjectStub(namespace, path).readInherited(path, from, until, maxBytes),
  };
}
