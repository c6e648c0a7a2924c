/**
 * One error type for everything the client can fail with. Server errors keep
 * the server's `code`, `message` and `details` verbatim (they are written to
 * be shown to users); client-side failures get their own codes:
 *
 * - `network_error` (status 0): the server could not be reached or the
 *   connection broke. Retryable.
 * - `bad_response`: the server answered with something that is not this API.
 */
export interface ClientErrorOptions {
  readonly status: number;
  readonly details?: Record<string, unknown> | undefined;
  readonly retryable?: boolean | undefined;
  readonly cause?: unknown;
}

export class DurableAgentsClientError extends Error {
  override name = "DurableAgentsClientError";
  readonly code: string;
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  /** Whether repeating the same request may succeed. */
  readonly retryable: boolean;

  constructor(code: string, message: string, options: ClientErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.details = options.details;
    this.retryable = options.retryable ?? isRetryableStatus(options.status);
  }
}

/**
 * 409 `version_conflict` from `setState`: the state changed since it was read.
 * Read it again (`state()`), apply the change to it, and retry with `currentVersion`.
 */
export class StateVersionConflictError extends DurableAgentsClientError {
  override name = "StateVersionConflictError";
  /** The version the state is at now. */
  readonly currentVersion: number;

  constructor(message: string, options: ClientErrorOptions & { currentVersion: number }) {
    super("version_conflict", message, options);
    this.currentVersion = options.currentVersion;
  }
}

/** 0 (no response), 408, 429 and 5xx are worth retrying; other 4xx are not. */
export function isRetryableStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

/** Turns a non-2xx response into a typed error, keeping the server's words. */
export async function errorFromResponse(response: Response): Promise<DurableAgentsClientError> {
  const text = await response.text().catch(() => "");
  const parsed = parseErrorBody(text);
  const currentVersion = parsed?.details?.currentVersion;
  if (parsed?.code === "version_conflict" && typeof currentVersion === "number") {
    return new StateVersionConflictError(parsed.message, {
      status: response.status,
      details: parsed.details,
      currentVersion,
    });
  }
  if (parsed !== undefined) {
    return new DurableAgentsClientError(parsed.code, parsed.message, {
      status: response.status,
      details: parsed.details,
    });
  }
  const snippet = text.trim().slice(0, 200);
  const suffix = snippet === "" ? "" : `: ${snippet}`;
  return new DurableAgentsClientError(
    `http_${response.status}`,
    `server answered ${response.status} ${response.statusText}${suffix}`.trim(),
    { status: response.status },
  );
}

interface ParsedError {
  code: string;
  message: string;
  details: Record<string, unknown> | undefined;
}

function parseErrorBody(text: string): ParsedError | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(body) || !isRecord(body.error)) return undefined;
  const { code, message, details } = body.error;
  if (typeof code !== "string" || typeof message !== "string") return undefined;
  return { code, message, details: isRecord(details) ? details : undefined };
}

/** A fetch that threw (not an abort): the server is unreachable or the connection broke. */
export function networkError(baseUrl: string, cause: unknown): DurableAgentsClientError {
  return new DurableAgentsClientError(
    "network_error",
    `cannot reach ${baseUrl} (${describeCause(cause)})`,
    { status: 0, cause },
  );
}

/** A connection that was open broke mid-response (reset, proxy timeout, server restart). */
export function connectionLost(baseUrl: string, cause: unknown): DurableAgentsClientError {
  return new DurableAgentsClientError(
    "network_error",
    `lost the connection to ${baseUrl} (${describeCause(cause)})`,
    { status: 0, cause },
  );
}

export function badResponse(message: string, status: number): DurableAgentsClientError {
  return new DurableAgentsClientError("bad_response", message, { status, retryable: false });
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  // Node's fetch wraps the socket error: "fetch failed" { cause: ECONNREFUSED }.
  const inner = cause.cause;
  if (inner instanceof Error) {
    const code = (inner as { code?: unknown }).code;
    return typeof code === "string" ? code : inner.message;
  }
  return cause.message;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The error a cancelled call rejects with: the signal's own reason, as `fetch` does. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}
