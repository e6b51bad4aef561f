// Kinesis publishing: records are collected into PutRecords calls (≤ 500 records, ≤ 5 MiB, or after a
// short linger), and every entry Kinesis refuses — throttled, internal failure, or the whole call
// failing — is retried with back-off and jitter until its deadline. `put` resolves once Kinesis
// accepted the record, and rejects once its deadline has passed.
import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { backoffMs, IdleWaiters } from './backoff.js';
import type { CallReport } from './faults.js';

/** Kinesis's own limits (PutRecords): 500 records, 5 MiB per call, 1 MiB per record incl. its key. */
export const KINESIS_MAX_RECORDS = 500;
export const KINESIS_MAX_CALL_BYTES = 5 * 1024 * 1024;
export const KINESIS_MAX_RECORD_BYTES = 1024 * 1024;

export interface PublisherOptions {
  stream: { StreamName?: string; StreamARN?: string };
  maxRecords: number;
  maxBytes: number;
  lingerMs: number;
  /** Calls in flight at once. */
  concurrency?: number;
  onRetry?: (reason: string) => void;
  faults?: CallReport;
}

interface Pending {
  entry: PutRecordsRequestEntry;
  bytes: number;
  attempt: number;
  deadline: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class PublishError extends Error {
  override readonly name = 'PublishError';
  /** The destination asked to be tried again only after this long (a Retry-After past the budget): the message comes back then. */
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export class KinesisPublisher {
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private calls = 0;
  private retrying = 0;
  private readonly idle = new IdleWaiters(() => this.busy);

  constructor(
    private readonly client: KinesisClient,
    private readonly options: PublisherOptions,
  ) {}

  /** Publishes one record; resolves when Kinesis accepted it, rejects when `deadline` (epoch ms) passed first. */
  put(data: Uint8Array, partitionKey: string, deadline: number): Promise<void> {
    const bytes = data.byteLength + Buffer.byteLength(partitionKey);
    if (bytes > KINESIS_MAX_RECORD_BYTES) {
      return Promise.reject(new PublishError(`record of ${bytes} bytes is over Kinesis's 1 MiB limit`));
    }
    return new Promise((resolve, reject) => {
      this.enqueue({ entry: { Data: data, PartitionKey: partitionKey }, bytes, attempt: 0, deadline, resolve, reject });
    });
  }

  private get busy(): boolean {
    return this.queue.length > 0 || this.calls > 0 || this.retrying > 0;
  }

  /** Sends what is queued now, and resolves when every record put so far is accepted or rejected. */
  async drain(): Promise<void> {
    this.flush();
    await this.idle.until();
  }

  private enqueue(p: Pending): void {
    if (this.queuedBytes + p.bytes > this.options.maxBytes) this.flush();
    this.queue.push(p);
    this.queuedBytes += p.bytes;
    if (this.queue.length >= this.options.maxRecords) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.lingerMs);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const concurrency = this.options.concurrency ?? 4;
    while (this.queue.length && this.calls < concurrency) {
      const batch: Pending[] = [];
      let bytes = 0;
      while (this.queue.length && batch.length < this.options.maxRecords && bytes + this.queue[0]!.bytes <= this.options.maxBytes) {
        const p = this.queue.shift()!;
        bytes += p.bytes;
        batch.push(p);
      }
      this.queuedBytes -= bytes;
      this.calls++;
      void this.send(batch).finally(() => {
        this.calls--;
        if (this.queue.length) this.flush();
        this.idle.check();
      });
    }
    if (this.queue.length && !this.timer) this.timer = setTimeout(() => this.flush(), this.options.lingerMs);
  }

  private async send(batch: Pending[]): Promise<void> {
    let failed: { p: Pending; reason: string }[];
    try {
      const out = await this.client.send(new PutRecordsCommand({ ...this.options.stream, Records: batch.map((p) => p.entry) }));
      this.options.faults?.succeeded('PutRecords');
      failed = [];
      (out.Records ?? []).forEach((r, i) => {
        const p = batch[i]!;
        if (r.ErrorCode) {
          failed.push({ p, reason: `${r.ErrorCode}: ${r.ErrorMessage ?? ''}` });
          this.options.faults?.entryFailed?.('PutRecords', r.ErrorCode);
        } else p.resolve();
      });
      // A response with fewer results than records should not happen; never count a record as sent without its result.
      for (let i = out.Records?.length ?? 0; i < batch.length; i++) failed.push({ p: batch[i]!, reason: 'no result for this record' });
    } catch (err) {
      this.options.faults?.failed('PutRecords', err);
      const reason = `PutRecords failed: ${(err as Error).name}: ${(err as Error).message}`;
      failed = batch.map((p) => ({ p, reason }));
    }
    for (const { p, reason } of failed) this.retry(p, reason);
  }

  private retry(p: Pending, reason: string): void {
    const delay = backoffMs(p.attempt++, 100, 5_000);
    if (Date.now() + delay >= p.deadline) {
      p.reject(new PublishError(`not accepted by Kinesis within the retry budget (${p.attempt} attempts; last: ${reason})`));
      return;
    }
    this.options.onRetry?.(reason);
    this.retrying++;
    setTimeout(() => {
      this.retrying--;
      this.enqueue(p);
    }, delay);
  }
}
