/**
 * Group commit for one stream's appends. An append that finds no commit in flight is
 * decided and committed at once (a batch of one); appends that arrive while a commit is in
 * flight wait, and the next batch takes them all, in arrival order, into one transaction
 * (`applyAppends`). Each still gets its own offset and reply; producer and Stream-Seq
 * checks see every append before it, as if they ran one by one.
 *
 * "In flight" ends when `durable()` resolves: on a Durable Object, `storage.sync()` (the
 * commit reached disk or its replicas; the output gate holds the replies until then anyway).
 * @example
 * const commits = new GroupCommit(() => ctx.storage.sync());
 * const reply = await commits.append(streamContext, await readAppendRequest(request, limit));
 */
import type { StreamContext } from "../stream-context.ts";
import { applyAppends } from "./append-batch.ts";
import type { AppendInput, AppendReply } from "./append-input.ts";

interface Pending {
  readonly ctx: StreamContext;
  readonly input: AppendInput;
  readonly resolve: (reply: AppendReply) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private running = false;
  /** Batches committed and appends in them, for tests and benches. */
  readonly stats = { batches: 0, appends: 0 };

  private readonly durable: () => Promise<void>;

  constructor(durable: () => Promise<void> = () => Promise.resolve()) {
    this.durable = durable;
  }

  /** Decide and commit `input` with whatever else is waiting; resolves with its reply or rejects with its typed error. */
  append(ctx: StreamContext, input: AppendInput): Promise<AppendReply> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ctx, input, resolve, reject });
      if (!this.running) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        this.stats.batches++;
        this.stats.appends += batch.length;
        const ctx = (batch[0] as Pending).ctx;
        try {
          const outcomes = await applyAppends(
            ctx,
            batch.map((p) => p.input),
          );
          batch.forEach((pending, i) => {
            const outcome = outcomes[i];
            if (outcome?.ok) pending.resolve(outcome.reply);
            else pending.reject(outcome?.error);
          });
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
        // Appends that arrive until this batch is durable join the next one.
        await this.durable().catch(() => undefined);
      }
    } finally {
      this.running = false;
    }
  }

  /** The waiting appends of the first one's stream (an object serves one stream, so: all of them). */
  private takeBatch(): Pending[] {
    const all = this.queue;
    const first = all[0] as Pending;
    if (all.every((p) => p.ctx === first.ctx)) {
      this.queue = [];
      return all;
    }
    this.queue = all.filter((p) => p.ctx !== first.ctx);
    return all.filter((p) => p.ctx === first.ctx);
  }
}
