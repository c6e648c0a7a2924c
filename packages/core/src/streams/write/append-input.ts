/**
 * An append as data: what a POST carries (`AppendInput`, read from the request once, by
 * whoever holds it: the Worker before its RPC to the stream object, or the object itself)
 * and what it answers on success (`AppendReply`, turned into the response in one place).
 */
import { readBytes } from "../../http/read-json.ts";
import { H } from "../protocol-headers.ts";
import { parseClosed, parseProducer } from "../request-headers.ts";
import type { ProducerTuple } from "../store.ts";

export interface AppendInput {
  /** The Content-Type header as sent (null when absent). */
  readonly contentType: string | null;
  /** Stream-Closed: true. */
  readonly close: boolean;
  readonly producer: ProducerTuple | null;
  /** The Stream-Seq header as sent. */
  readonly streamSeq: string | null;
  /** The whole body (at most the append limit). */
  readonly body: Uint8Array;
}

export interface AppendReply {
  /** 200 for an accepted producer append with data, else 204 (PROTOCOL.md 5.2, 5.2.1). */
  readonly status: 200 | 204;
  /** Stream-Next-Offset. */
  readonly nextOffset: string;
  /** Stream-Closed: true. */
  readonly closed: boolean;
  /** Producer-Epoch and Producer-Seq to echo, when the request named a producer. */
  readonly producer: { readonly epoch: number; readonly seq: number } | null;
}

/**
 * Parse a POST's headers and read its body, refusing more than `maxBytes` with a 413.
 * Throws the typed 400s of the header parsers (request-headers.ts).
 */
export async function readAppendRequest(request: Request, maxBytes: number): Promise<AppendInput> {
  const close = parseClosed(request.headers);
  const producer = parseProducer(request.headers);
  return {
    contentType: request.headers.get("content-type"),
    close,
    producer,
    streamSeq: request.headers.get(H.seq),
    body: await readBytes(request, maxBytes),
  };
}

/** The response of a successful append (errors are rendered by errorResponse). */
export function appendResponse(reply: AppendReply): Response {
  const headers = new Headers();
  headers.set(H.nextOffset, reply.nextOffset);
  if (reply.closed) headers.set(H.closed, "true");
  if (reply.producer !== null) {
    headers.set(H.producerEpoch, String(reply.producer.epoch));
    headers.set(H.producerSeq, String(reply.producer.seq));
  }
  return new Response(null, { status: reply.status, headers });
}
