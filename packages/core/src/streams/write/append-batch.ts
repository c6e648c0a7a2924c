/**
 * Decide and commit a batch of appends to one stream (group commit). Each append is decided
 * in arrival order against the state the appends before it leave (metadata, producer
 * state), exactly as if it ran alone; the accepted ones then commit in one transaction.
 * Each append gets its own outcome: its reply, or the typed error it alone would have got.
 * If the commit fails, every append in the batch fails with that error (a duplicate may
 * have been judged against an append that did not land).
 */
import { BadRequestError } from "../../errors/http-errors.ts";
import { type AppendContent, buildChunks } from "../chunks.ts";
import { isJsonContentType, normalizeContentType } from "../content-type.ts";
import { parseJsonMessages } from "../json-mode.ts";
import { expireIfDue, requireLive, scheduleExpiry } from "../lifecycle.ts";
import { formatOffset } from "../offsets.ts";
import type { ProducerState, StoredChunk, StreamMeta } from "../store.ts";
import type { StreamContext } from "../stream-context.ts";
import {
  ContentTypeMismatchError,
  InvalidBodyError,
  ProducerSequenceGapError,
  StaleProducerEpochError,
  StreamClosedError,
  StreamSeqConflictError,
} from "../stream-errors.ts";
import type { AppendInput, AppendReply } from "./append-input.ts";
import { planAppend } from "./append-plan.ts";
import { commitAppends } from "./commit.ts";

export type AppendOutcome =
  | { readonly ok: true; readonly reply: AppendReply }
  | { readonly ok: false; readonly error: unknown };

/** Decide every input in order, commit the accepted ones together, and answer each. */
export async function applyAppends(
  ctx: StreamContext,
  inputs: readonly AppendInput[],
): Promise<AppendOutcome[]> {
  await expireIfDue(ctx);
  const batch = new StagedAppends(ctx, ctx.store.getMeta());
  const outcomes = inputs.map((input): AppendOutcome => {
    try {
      return { ok: true, reply: batch.decide(input) };
    } catch (error) {
      return { ok: false, error };
    }
  });
  if (batch.meta === null || !batch.dirty) return outcomes;
  const next = batch.meta;
  try {
    commitAppends(ctx.store, next, batch.chunks, batch.producers);
    if (batch.wakesReaders) ctx.waiters.notify();
    scheduleExpiry(ctx, next);
    if (batch.appended) await ctx.hooks?.appended?.(next);
  } catch (error) {
    return inputs.map(() => ({ ok: false, error }));
  }
  return outcomes;
}

/** The state a batch builds up before its one commit. */
class StagedAppends {
  readonly chunks: StoredChunk[] = [];
  readonly producers = new Map<string, ProducerState>();
  dirty = false;
  /** Some append carried data (subscriptions hear of it). */
  appended = false;
  /** Data or a close landed: live readers must look again. */
  wakesReaders = false;

  private readonly ctx: StreamContext;
  meta: StreamMeta | null;

  constructor(ctx: StreamContext, meta: StreamMeta | null) {
    this.ctx = ctx;
    this.meta = meta;
  }

  decide(input: AppendInput): AppendReply {
    const { ctx } = this;
    const meta = requireLive(ctx, this.meta);
    const { body, close, producer, streamSeq, contentType } = input;
    if (body.byteLength === 0 && !close) {
      throw new InvalidBodyError(
        "body is empty; send data to append, or Stream-Closed: true to close the stream",
      );
    }
    if (body.byteLength > 0 && (contentType === null || contentType.trim() === "")) {
      throw new BadRequestError(
        "missing_content_type",
        `appends need a Content-Type header; this stream takes ${meta.contentType}`,
      );
    }
    const placeholder: AppendContent | null =
      body.byteLength === 0 ? null : { kind: "bytes", bytes: body };
    const plan = planAppend(meta, producer === null ? null : this.producer(producer.producerId), {
      content: placeholder,
      contentTypeMatches:
        normalizeContentType(contentType) === normalizeContentType(meta.contentType),
      close,
      producer,
      streamSeq,
    });
    switch (plan.kind) {
      case "append": {
        const content: AppendContent | null =
          placeholder !== null && isJsonContentType(meta.contentType)
            ? { kind: "json", messages: parseJsonMessages(body, false) }
            : placeholder;
        const chunks = content === null ? [] : buildChunks(meta.tail, content);
        const last = chunks[chunks.length - 1];
        const next: StreamMeta = {
          ...meta,
          tail: last === undefined ? meta.tail : last.end,
          closed: meta.closed || plan.close,
          closedBy: plan.close && plan.producer !== null ? plan.producer.tuple : meta.closedBy,
          lastStreamSeq: plan.streamSeq ?? meta.lastStreamSeq,
          // Only a sliding TTL reads it; leaving it alone otherwise keeps the metadata row unchanged.
          lastAccessAt: meta.ttlSeconds === null ? meta.lastAccessAt : ctx.now(),
        };
        this.chunks.push(...chunks);
        if (plan.producer !== null)
          this.producers.set(plan.producer.tuple.producerId, plan.producer.next);
        this.meta = next;
        this.dirty = true;
        if (content !== null) this.appended = true;
        if (content !== null || plan.close) this.wakesReaders = true;
        return {
          status: plan.producer !== null && content !== null ? 200 : 204,
          nextOffset: formatOffset(next.lineage, next.tail),
          closed: next.closed,
          producer:
            plan.producer === null
              ? null
              : { epoch: plan.producer.next.epoch, seq: plan.producer.next.lastSeq },
        };
      }
      case "already_closed":
      case "closed_duplicate": {
        const current = this.touch(meta);
        return {
          status: 204,
          nextOffset: formatOffset(current.lineage, current.tail),
          closed: true,
          producer:
            plan.kind === "closed_duplicate" && producer !== null
              ? { epoch: producer.epoch, seq: producer.seq }
              : null,
        };
      }
      case "duplicate": {
        this.touch(meta);
        return {
          status: 204,
          nextOffset: formatOffset(meta.lineage, meta.tail),
          closed: false,
          producer: { epoch: producer?.epoch ?? 0, seq: plan.lastSeq },
        };
      }
      case "closed_conflict":
        throw new StreamClosedError(ctx.path, formatOffset(meta.lineage, meta.tail));
      case "content_type_mismatch":
        throw new ContentTypeMismatchError(meta.contentType, contentType ?? "");
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
        throw new ProducerSequenceGapError(
          producer?.producerId ?? "",
          plan.expected,
          plan.received,
        );
    }
  }

  /** The producer's state as the appends staged so far leave it. */
  private producer(producerId: string): ProducerState | null {
    return this.producers.get(producerId) ?? this.ctx.store.getProducer(producerId);
  }

  /** Sliding TTL: a duplicate or a request to a closed stream still counts as an access. */
  private touch(meta: StreamMeta): StreamMeta {
    if (meta.ttlSeconds === null) return meta;
    const next = { ...meta, lastAccessAt: this.ctx.now() };
    this.meta = next;
    this.dirty = true;
    return next;
  }
}
