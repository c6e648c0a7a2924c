import {
  abortReason,
  badResponse,
  connectionLost,
  errorFromResponse,
  networkError,
} from "./errors.ts";

/**
 * The part of the browser WebSocket API the client uses. Browsers', Node 22's
 * and the `ws` package's constructors all fit; so does a test's stand-in.
 */
export interface WebSocketLike {
  readonly readyState: number;
  readonly OPEN: number;
  readonly CONNECTING: number;
  binaryType: string;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** What every call needs to reach the server. */
export interface HttpContext {
  readonly baseUrl: string;
  readonly fetch: typeof fetch;
  readonly headers: Readonly<Record<string, string>>;
  /** WebSocket constructor for `transport: "ws"`; the global one when absent. */
  readonly WebSocket?: WebSocketConstructor | undefined;
}

export interface RequestOptions {
  readonly method?: "GET" | "POST" | "PUT" | "DELETE";
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  readonly signal?: AbortSignal | undefined;
  readonly headers?: Readonly<Record<string, string>>;
}

export function buildUrl(
  ctx: HttpContext,
  path: string,
  query: RequestOptions["query"] = {},
): string {
  // A relative baseUrl ("" or "/api") resolves against the page, for same-origin browser apps.
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  const url = new URL(ctx.baseUrl.replace(/\/+$/, "") + path, page);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url.toString();
}

/**
 * Sends one request and returns the raw response when it is 2xx.
 * Non-2xx becomes a `DurableAgentsClientError` with the server's own words;
 * an abort rejects with the signal's reason.
 */
export async function send(
  ctx: HttpContext,
  path: string,
  options: RequestOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...ctx.headers, ...options.headers };
  const init: RequestInit = { method: options.method ?? "GET", headers };
  if (options.signal !== undefined) init.signal = options.signal;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await ctx.fetch(buildUrl(ctx, path, options.query), init);
  } catch (error) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    throw networkError(ctx.baseUrl, error);
  }
  if (!response.ok) throw await errorFromResponse(response);
  return response;
}

/** Sends one request and parses its JSON body. */
export async function requestJson<T>(
  ctx: HttpContext,
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  const response = await send(ctx, path, options);
  const text = await readText(ctx, response, options.signal);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw badResponse(`expected JSON from ${path} but got: ${text.slice(0, 200)}`, response.status);
  }
}

export async function readText(
  ctx: HttpContext,
  response: Response,
  signal: AbortSignal | undefined,
): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    if (signal?.aborted) throw abortReason(signal);
    throw connectionLost(ctx.baseUrl, error);
  }
}
