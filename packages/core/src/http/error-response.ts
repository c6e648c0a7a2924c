import { DurableAgentsError } from "../errors/base.ts";

/** An error as every transport sends it: the status, headers, and `{"error":{code,message,details?}}`. */
export interface RenderedError {
  readonly status: number;
  readonly headers: Record<string, string> | undefined;
  readonly body: { error: { code: string; message: string; details?: Record<string, unknown> } };
}

/**
 * The one place that decides how an error goes on the wire, for HTTP and the WebSocket
 * alike. Anything that is not a DurableAgentsError is a 500 `internal`, its cause never
 * sent to the caller. Every 5xx goes to `onInternal` (the caller's logger) first; it is
 * required so that no boundary can answer a 500 without logging its cause.
 */
export function renderError(error: unknown, onInternal: (error: unknown) => void): RenderedError {
  if (error instanceof DurableAgentsError) {
    if (error.status >= 500) onInternal(error);
    return { status: error.status, headers: error.headers, body: error.toJSON() };
  }
  onInternal(error);
  return {
    status: 500,
    headers: undefined,
    body: { error: { code: "internal", message: "internal error; the server log has the cause" } },
  };
}

/** An error as an HTTP response: `renderError`'s status, headers and body. */
export function errorResponse(error: unknown, onInternal: (error: unknown) => void): Response {
  const { status, headers, body } = renderError(error, onInternal);
  return Response.json(body, { status, headers });
}
