import { allowLocalDev } from "../../packages/cloudflare/src/auth/authorize.ts";
import { drainBody } from "../../packages/cloudflare/src/http/drain-body.ts";
import {
  DurableStreamObject,
  routeStreamRequest,
  type StreamObjectEnv,
} from "../../packages/cloudflare/src/stream-object/index.ts";
import { errorResponse, PayloadTooLargeError } from "../../packages/core/src/index.ts";
import { LedgerStreamObject, MAX_APPEND_BYTES } from "./ledger-stream-object.ts";

export { DurableStreamObject, LedgerStreamObject };

/** Session ledgers as streams (test only, see ledger-stream-object.ts), under this prefix. */
const LEDGER_PREFIX = "/ledger/v1/stream/";

interface Env extends StreamObjectEnv {
  readonly LEDGER_STREAMS: DurableObjectNamespace<LedgerStreamObject>;
}

const logCause = (cause: unknown): void => console.error("ledger stream failed", cause);

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/v1/stream/"))
      // The suite sends no credentials: loopback with AUTH_SECRET unset is local dev.
      return routeStreamRequest(request, env.STREAMS, env, { authorize: allowLocalDev() });
    if (url.pathname.startsWith(LEDGER_PREFIX)) {
      // As routeStreamRequest does: an object must not refuse a body it has not read, and the
      // 413 waits until the body is taken (bounded): wrangler dev's proxy resets a connection
      // answered mid-upload (the suite's 10 MiB append then fails with ECONNRESET).
      if (Number(request.headers.get("content-length") ?? "0") > MAX_APPEND_BYTES) {
        await drainBody(request, 2 * MAX_APPEND_BYTES);
        return errorResponse(
          new PayloadTooLargeError("the request body", MAX_APPEND_BYTES),
          logCause,
        );
      }
      const name = url.pathname.slice(LEDGER_PREFIX.length);
      return env.LEDGER_STREAMS.get(env.LEDGER_STREAMS.idFromName(name)).fetch(request);
    }
    return new Response("durable-streams conformance worker", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
