/**
 * Errors do not keep their class, code or headers across DO-to-DO RPC, so stream objects
 * return results as data and the caller rebuilds the typed error.
 */
import { DurableAgentsError, UserError } from "@durable-agents/core";

export type RpcResult<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly error: {
        readonly code: string;
        readonly status: number;
        readonly message: string;
        readonly details?: Record<string, unknown>;
        readonly headers?: Record<string, string>;
      };
    };

export async function toRpcResult<T>(run: () => Promise<T>): Promise<RpcResult<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    if (!(error instanceof DurableAgentsError) || error.status >= 500) throw error;
    return {
      ok: false,
      error: {
        code: error.code,
        status: error.status,
        message: error.message,
        ...(error.details === undefined ? {} : { details: error.details }),
        ...(error.headers === undefined ? {} : { headers: error.headers }),
      },
    };
  }
}

export function unwrapRpcResult<T>(result: RpcResult<T>): T {
  if (result.ok) return result.value;
  const { code, status, message, details, headers } = result.error;
  throw new UserError(code, status, message, {
    ...(details === undefined ? {} : { details }),
    ...(headers === undefined ? {} : { headers }),
  });
}
