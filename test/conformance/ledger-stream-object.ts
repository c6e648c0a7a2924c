/**
 * Test only: a Durable Stream whose storage is a session ledger, so the conformance suite's
 * read cases exercise the code that serves a session's `GET .../events`.
 *
 * A session ledger is read-only from outside (only its runtime appends), and the suite creates
 * and appends to its own streams. So this object keeps a real `Ledger` in its own DO SQLite (no
 * projections) and gives the suite a small write path: PUT records the content type, POST
 * appends each message (a JSON value, or a slice of the body's bytes) as one ledger event, and
 * `Stream-Closed: true` appends `session.closed` in the same batch, which closes the ledger
 * exactly as `POST .../close` closes a session. Reads (GET and HEAD) go to `serveLedgerRead`,
 * the function behind `GET` and `HEAD .../events`, with one difference: the codec. `/events` serves each event as JSON
 * with its offset (`WIRE_EVENT_CODEC`); here an event is served as the message it carries, and
 * `session.closed` as no message, so the suite can compare what it reads with what it wrote.
 * Everything else (offsets as 16-digit seq, catch-up, long-poll, SSE and its live loop,
 * cursors, ETags, Stream-Closed, shared chunks) is the `/events` code, unchanged.
 */

import { DurableObject } from "cloudflare:workers";
import { doSqlPort } from "../../packages/cloudflare/src/sql/do-sql-port.ts";
import {
  BadRequestError,
  ConflictError,
  type EventKind,
  errorResponse,
  Ledger,
  type LedgerCodec,
  type LedgerEvent,
  type LiveReadOptions,
  MethodNotAllowedError,
  type NewEvent,
  NotFoundError,
  readBytes,
  serveLedgerRead,
  systemClock,
} from "../../packages/core/src/index.ts";
import {
  DEFAULT_CONTENT_TYPE,
  isJsonContentType,
  normalizeContentType,
} from "../../packages/core/src/streams/content-type.ts";
import { parseJsonMessages } from "../../packages/core/src/streams/json-mode.ts";
import { isTrueHeader } from "../../packages/core/src/streams/protocol-headers.ts";

/** The suite's messages, as events of a kind that exists only in this test. */
const MESSAGE = "test.message" as EventKind;
/** A byte body is stored in events of at most this many bytes (an event is at most 1 MiB of JSON). */
const BYTES_PER_EVENT = 256 * 1024;
export const MAX_APPEND_BYTES = 8 * 1024 * 1024;

interface MessageData {
  /** JSON streams: one serialized JSON value. */
  readonly json?: string;
  /** Other streams: bytes, base64. */
  readonly base64?: string;
}

export interface LedgerStreamEnv {
  readonly STREAMS_LONG_POLL_TIMEOUT_MS?: string;
  readonly STREAMS_SSE_MAX_DURATION_MS?: string;
  readonly STREAMS_SSE_KEEPALIVE_MS?: string;
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

export class LedgerStreamObject extends DurableObject<LedgerStreamEnv> {
  readonly #sql = doSqlPort(this.ctx.storage);
  #ledger: Ledger | undefined;
  #codec: LedgerCodec | undefined;

  override async fetch(request: Request): Promise<Response> {
    try {
      switch (request.method) {
        case "PUT":
          return await this.#create(request);
        case "POST":
          return await this.#append(request);
        // HEAD too: the session's HEAD .../events is the same call (serveStreamRead answers it).
        case "GET":
        case "HEAD":
          return await serveLedgerRead(
            request,
            this.#ledgerOrThrow(request),
            systemClock,
            this.#live(),
            this.#codecOf(),
          );
        case "DELETE":
          this.#ledgerOrThrow(request);
          await this.ctx.storage.deleteAll();
          this.#ledger = undefined;
          this.#codec = undefined;
          return new Response(null, { status: 204 });
        default:
          throw new MethodNotAllowedError(request.method, new URL(request.url).pathname, [
            "GET",
            "HEAD",
            "PUT",
            "POST",
            "DELETE",
          ]);
      }
    } catch (error) {
      return errorResponse(error, logCause);
    }
  }

  async #create(request: Request): Promise<Response> {
    const type = request.headers.get("content-type");
    const contentType = type === null || type.trim() === "" ? DEFAULT_CONTENT_TYPE : type;
    const body = await readBytes(request, MAX_APPEND_BYTES);
    const closed = isTrueHeader(request.headers.get("stream-closed"));
    const existing = this.#contentType();
    if (existing !== null) {
      if (normalizeContentType(existing) !== normalizeContentType(contentType))
        throw new ConflictError("stream_exists", "the stream exists with another content type");
      return this.#answer(200, request);
    }
    this.#sql.exec("CREATE TABLE ledger_stream (content_type TEXT NOT NULL)");
    this.#sql.exec("INSERT INTO ledger_stream (content_type) VALUES (?)", contentType);
    const ledger = this.#ledgerOf();
    const events = body.byteLength > 0 ? this.#messages(body, true) : [];
    if (events.length > 0 || closed) ledger.append(closed ? [...events, closing()] : events);
    const response = this.#answer(201, request);
    response.headers.set("location", request.url);
    return response;
  }

  async #append(request: Request): Promise<Response> {
    const ledger = this.#ledgerOrThrow(request);
    const body = await readBytes(request, MAX_APPEND_BYTES);
    const close = isTrueHeader(request.headers.get("stream-closed"));
    if (ledger.closed) {
      if (close && body.byteLength === 0) return this.#answer(204, request);
      const response = errorResponse(
        new ConflictError("stream_closed", "the stream is closed and takes no more appends"),
        logCause,
      );
      response.headers.set("stream-closed", "true");
      return response;
    }
    const type = request.headers.get("content-type");
    if (body.byteLength === 0 && !close)
      throw new BadRequestError("empty_body", "an append needs a body, or Stream-Closed: true");
    if (
      body.byteLength > 0 &&
      normalizeContentType(type) !== normalizeContentType(this.#contentType())
    )
      throw new ConflictError(
        "content_type_mismatch",
        "the append's content type is not the stream's",
      );
    const events = body.byteLength > 0 ? this.#messages(body, false) : [];
    ledger.append(close ? [...events, closing()] : events);
    return this.#answer(204, request);
  }

  /** Status, content type, Stream-Next-Offset (the ledger tail) and Stream-Closed. */
  #answer(status: number, request: Request): Response {
    const ledger = this.#ledgerOrThrow(request);
    const headers = new Headers({ "content-type": this.#contentType() ?? DEFAULT_CONTENT_TYPE });
    headers.set("stream-next-offset", String(ledger.tail).padStart(16, "0"));
    if (ledger.closed) headers.set("stream-closed", "true");
    return new Response(null, { status, headers });
  }

  #messages(body: Uint8Array, allowEmpty: boolean): NewEvent[] {
    const message = (data: MessageData) =>
      ({ kind: MESSAGE, runId: null, data }) as unknown as NewEvent;
    if (isJsonContentType(this.#contentType() ?? ""))
      return parseJsonMessages(body, allowEmpty).map((json) => message({ json }));
    const out: NewEvent[] = [];
    for (let at = 0; at < body.byteLength; at += BYTES_PER_EVENT)
      out.push(message({ base64: toBase64(body.subarray(at, at + BYTES_PER_EVENT)) }));
    return out;
  }

  #contentType(): string | null {
    const rows = this.#sql.exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'ledger_stream'",
    );
    if (rows.length === 0) return null;
    return (
      this.#sql.exec<{ content_type: string }>("SELECT content_type FROM ledger_stream")[0]
        ?.content_type ?? null
    );
  }

  #ledgerOrThrow(request: Request): Ledger {
    if (this.#contentType() === null)
      throw new NotFoundError("stream_not_found", `no stream at ${new URL(request.url).pathname}`);
    return this.#ledgerOf();
  }

  #ledgerOf(): Ledger {
    this.#ledger ??= new Ledger(this.#sql, systemClock, []);
    return this.#ledger;
  }

  /** Built once per object: the reader keeps its last chunk per codec (shared frames). */
  #codecOf(): LedgerCodec {
    this.#codec ??= {
      contentType: this.#contentType() ?? DEFAULT_CONTENT_TYPE,
      encode: (event: LedgerEvent) => {
        if (event.kind === "session.closed") return EMPTY;
        const data = event.data as MessageData;
        return data.json !== undefined ? encoder.encode(data.json) : fromBase64(data.base64 ?? "");
      },
    };
    return this.#codec;
  }

  #live(): LiveReadOptions {
    const num = (value: string | undefined, fallback: number) =>
      value === undefined ? fallback : Number(value);
    return {
      longPollMs: num(this.env.STREAMS_LONG_POLL_TIMEOUT_MS, 20_000),
      sseMaxMs: num(this.env.STREAMS_SSE_MAX_DURATION_MS, 60_000),
      keepAliveMs: num(this.env.STREAMS_SSE_KEEPALIVE_MS, 15_000),
      maxEvents: 1000,
    };
  }
}

const logCause = (cause: unknown): void => console.error("ledger stream failed", cause);

function closing(): NewEvent {
  return { kind: "session.closed", runId: null, data: { reason: "Stream-Closed: true" } };
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.byteLength; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
