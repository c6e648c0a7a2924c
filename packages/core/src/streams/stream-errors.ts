/**
 * Typed protocol errors. Each carries the status and the headers the spec asks for,
 * so the one boundary (`http/error-response.ts`) renders them without special cases.
 */
import { UserError } from "../errors/base.ts";
import { BadRequestError, ConflictError, NotFoundError } from "../errors/http-errors.ts";
import { H } from "./protocol-headers.ts";

export class StreamNotFoundError extends NotFoundError {
  override name = "StreamNotFoundError";
  constructor(path: string) {
    super(
      "stream_not_found",
      `stream "${path}" does not exist (or has expired); create it with PUT first`,
    );
  }
}

export class StreamGoneError extends UserError {
  override name = "StreamGoneError";
  constructor(path: string) {
    super(
      "stream_gone",
      410,
      `stream "${path}" was deleted but forks still read its data; it cannot be read, written or re-created until its forks are deleted`,
    );
  }
}

export class StreamClosedError extends ConflictError {
  override name = "StreamClosedError";
  constructor(path: string, finalOffset: string) {
    super(
      "stream_closed",
      `stream "${path}" is closed at offset ${finalOffset}; it accepts no more appends`,
      {
        headers: { [H.closed]: "true", [H.nextOffset]: finalOffset },
        details: { finalOffset },
      },
    );
  }
}

export class ContentTypeMismatchError extends ConflictError {
  override name = "ContentTypeMismatchError";
  constructor(streamType: string, sent: string) {
    super(
      "content_type_mismatch",
      `stream has content type "${streamType}" but the request sent "${sent}"; send Content-Type: ${streamType}`,
      { details: { streamContentType: streamType } },
    );
  }
}

export class StreamSeqConflictError extends ConflictError {
  override name = "StreamSeqConflictError";
  constructor(sent: string, last: string) {
    super(
      "stream_seq_regression",
      `Stream-Seq "${sent}" is not greater than the last accepted "${last}" (byte-wise order); send a larger Stream-Seq`,
      { details: { lastSeq: last } },
    );
  }
}

export class StreamConfigConflictError extends ConflictError {
  override name = "StreamConfigConflictError";
  constructor(path: string, what: string) {
    super(
      "stream_exists",
      `stream "${path}" already exists with a different ${what}; delete it or PUT the same configuration`,
    );
  }
}

export class InvalidOffsetError extends BadRequestError {
  override name = "InvalidOffsetError";
  constructor(message: string) {
    super("invalid_offset", message);
  }
}

export class InvalidHeaderError extends BadRequestError {
  override name = "InvalidHeaderError";
  constructor(header: string, problem: string) {
    super("invalid_header", `${header}: ${problem}`, { details: { header } });
  }
}

export class InvalidBodyError extends BadRequestError {
  override name = "InvalidBodyError";
  constructor(message: string) {
    super("invalid_body", message);
  }
}

export class StaleProducerEpochError extends UserError {
  override name = "StaleProducerEpochError";
  constructor(producerId: string, sent: number, current: number) {
    super(
      "stale_producer_epoch",
      403,
      `producer "${producerId}" sent epoch ${sent} but epoch ${current} has taken over; this producer is fenced (restart with epoch ${current + 1} and seq 0 to claim it)`,
      { headers: { [H.producerEpoch]: String(current) }, details: { currentEpoch: current } },
    );
  }
}

export class ProducerSequenceGapError extends ConflictError {
  override name = "ProducerSequenceGapError";
  constructor(producerId: string, expected: number, received: number) {
    super(
      "producer_sequence_gap",
      `producer "${producerId}" sent seq ${received} but seq ${expected} is next; resend the missing batches in order`,
      {
        headers: {
          [H.producerExpectedSeq]: String(expected),
          [H.producerReceivedSeq]: String(received),
        },
        details: { expectedSeq: expected, receivedSeq: received },
      },
    );
  }
}

export class ForkSourceNotFoundError extends NotFoundError {
  override name = "ForkSourceNotFoundError";
  constructor(source: string) {
    super(
      "fork_source_not_found",
      `Stream-Forked-From names "${source}", which does not exist; fork an existing stream`,
    );
  }
}

export class ForkSourceDeletedError extends ConflictError {
  override name = "ForkSourceDeletedError";
  constructor(source: string) {
    super(
      "fork_source_deleted",
      `Stream-Forked-From names "${source}", which was deleted; fork a live stream`,
    );
  }
}
