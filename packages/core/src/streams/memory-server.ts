/**
 * An in-memory Durable Streams server: every stream is a `MemoryStreamStore`, forks reach
 * their source in process. For Node unit tests and local tools; no persistence.
 */
import { errorResponse } from "../http/error-response.ts";
import { consoleLogger, type Logger } from "../logger.ts";
import { grantFork, readInherited } from "./fork-source.ts";
import { handleStreamRequest } from "./handler.ts";
import { withStreamHeaders } from "./http-headers.ts";
import { releaseForkReference } from "./lifecycle.ts";
import { MemoryStreamStore } from "./memory-store.ts";
import { PRODUCTION_READ_OPTIONS } from "./read/read-source.ts";
import type { StreamConfig, StreamContext, StreamPeers } from "./stream-context.ts";
import { assertStreamPath } from "./stream-path.ts";
import { Waiters } from "./waiters.ts";
import { GroupCommit } from "./write/group-commit.ts";

export const DEFAULT_STREAM_CONFIG: StreamConfig = {
  streamRoot: "/v1/stream/",
  maxAppendBytes: 8 * 1024 * 1024,
  read: PRODUCTION_READ_OPTIONS,
};

export interface MemoryStreamServerOptions {
  readonly config?: Partial<StreamConfig>;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Where 5xx causes are logged; default consoleLogger. */
  readonly logger?: Logger;
}

export class MemoryStreamServer {
  private readonly streams = new Map<string, StreamContext>();
  private readonly config: StreamConfig;
  private readonly now: () => number;
  private readonly random: (() => number) | undefined;
  private readonly logger: Logger;
  private readonly peers: StreamPeers = {
    grantFork: (path, request) => grantFork(this.context(path), request),
    releaseFork: (path) => releaseForkReference(this.context(path)),
    readInherited: (path, from, until, maxBytes) =>
      readInherited(this.context(path), from, until, maxBytes),
  };

  constructor(options: MemoryStreamServerOptions = {}) {
    this.config = { ...DEFAULT_STREAM_CONFIG, ...options.config };
    this.now = options.now ?? Date.now;
    this.random = options.random;
    this.logger = options.logger ?? consoleLogger;
  }

  /** Serve a request whose path starts with the stream root. */
  async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname.slice(this.config.streamRoot.length);
    const onInternal = (error: unknown) =>
      this.logger.error("stream request failed", { error: String(error) });
    if (request.method !== "OPTIONS") {
      try {
        assertStreamPath(path);
      } catch (error) {
        return withStreamHeaders(errorResponse(error, onInternal), request);
      }
    }
    return handleStreamRequest(request, this.context(path), onInternal);
  }

  context(path: string): StreamContext {
    let ctx = this.streams.get(path);
    if (ctx === undefined) {
      ctx = {
        path,
        store: new MemoryStreamStore(),
        waiters: new Waiters(),
        appends: new GroupCommit(),
        peers: this.peers,
        config: this.config,
        now: this.now,
        ...(this.random === undefined ? {} : { random: this.random }),
      };
      this.streams.set(path, ctx);
    }
    return ctx;
  }
}
