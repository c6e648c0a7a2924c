/** POST: append, close, or append-and-close (PROTOCOL.md 5.2, 5.2.1, 5.3). */
import { BadRequestError } from "../../errors/http-errors.ts";
import { readBytes } from "../../http/read-json.ts";
import type { AppendContent } from "../chunks.ts";
import { isJsonContentType, normalizeContentType } from "../content-type.ts";
import { parseJsonMessages } from "../json-mode.ts";
import { expireIfDue, requireLive, scheduleExpiry, touch } from "../lifecycle.ts";
import { formatOffset } from "../offsets.ts";
import { H } from "../protocol-headers.ts";
import { parseClosed, parseProducer } from "../request-headers.ts";
import type { StreamMeta } from "../store.ts";
import type { StreamContext } from "../stream-context.ts";
import {
  ContentTypeMismatchError,
  InvalidBodyError,
  ProducerSequenceGapError,
  StaleProducerEpochError,
  StreamClosedError,
  StreamSeqConflictError,
} from "../stream-errors.ts";
import { planAppend } from "./append-plan.ts";
import { commitAppend } from "./commit.ts";

export async function handleAppend(request: Request, ctx: StreamContext): Promise<Response> {
  const close = parseClosed(request.headers);
  const producer = parseProducer(request.headers);
  const streamSeq = request.headers.get(H.seq);
  const sentType = request.headers.get("content-type");
  const body = await readBytes(request, ctx.config.maxAppendBytes);
  await expireIfDue(ctx);
  const meta = requireLive(ctx, ctx.store.getMeta());
  if (body.byteLength === 0 && !close) {
    throw new InvalidBodyError(
      "body is empty; send data to append, or Stream-Closed: true to close the stream",
    );
  }
  if (body.byteLength > 0 && (sentType === null || sentType.trim() === "")) {
    throw new BadRequestError(
      "missing_content_type",
      `appends need a Content-Type header; this stream takes ${meta.contentType}`,
    );
  }
  const json = isJsonContentType(meta.contentType);
  const placeholder: AppendContent | null =
    body.byteLength === 0 ? null : { kind: "bytes", bytes: body };
  const plan = planAppend(
    meta,
    producer === null ? null : ctx.store.getProducer(producer.producerId),
    {
      content: placeholder,
      contentTypeMatches: normalizeContentType(sentType) === normalizeContentType(meta.contentType),
      close,
      producer,
      streamSeq,
    },
  );
  const tailOffset = (m: StreamMeta): string => formatOffset(m.lineage, m.tail);
  const headers = new Headers();

  switch (plan.kind) {
    case "append": {
      const content: AppendContent | null =
        placeholder !== null && json
          ? { kind: "json", messages: parseJsonMessages(body, false) }
          : placeholder;
      const next = commitAppend(ctx.store, meta, { ...plan, content }, ctx.now());
      ctx.waiters.notify();
      scheduleExpiry(ctx, next);
      if (content !== null) await ctx.hooks?.appended?.(next);
      headers.set(H.nextOffset, tailOffset(next));
      if (next.closed) headers.set(H.closed, "true");
      if (plan.producer !== null) {
        headers.set(H.producerEpoch, String(plan.producer.next.epoch));
        headers.set(H.producerSeq, String(plan.producer.next.lastSeq));
      }
      return new Response(null, {
        status: plan.producer !== null && content !== null ? 200 : 204,
        headers,
      });
    }
    case "already_closed":
    case "closed_duplicate": {
      const current = touch(ctx, meta);
      headers.set(H.nextOffset, tailOffset(current));
      headers.set(H.closed, "true");
      if (plan.kind === "closed_duplicate" && producer !== null) {
        headers.set(H.producerEpoch, String(producer.epoch));
        headers.set(H.producerSeq, String(producer.seq));
      }
      return new Response(null, { status: 204, headers });
    }
    case "duplicate": {
      touch(ctx, meta);
      headers.set(H.nextOffset, tailOffset(meta));
      headers.set(H.producerEpoch, String(producer?.epoch ?? 0));
      headers.set(H.producerSeq, String(plan.lastSeq));
      return new Response(null, { status: 204, headers });
    }
    case "closed_conflict":
      throw new StreamClosedError(ctx.path, tailOffset(meta));
    case "content_type_mismatch":
      throw new ContentTypeMismatchError(meta.contentType, sentType ?? "");
    case "stream_seq_regression":
      throw new StreamSeqConflictError(streamSeq ?? "", plan.last);
    case "stale_epoch":
      throw new StaleProducerEpochError(
        producer?.producerId ?? "",
        producer?.epoch ?? 0,
        plan.currentEpoch,
      );
    case "epoch_seq_not_zero":
      throw new BadRequestError(
        "producer_epoch_seq",
        `producer "${producer?.producerId}" started epoch ${producer?.epoch} at seq ${producer?.seq}; a new epoch must start at seq 0`,
      );
    case "sequence_gap":
      throw new ProducerSequenceGapError(producer?.producerId ?? "", plan.expected, plan.received);
  }
}
