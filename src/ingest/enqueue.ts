// Verified events → the queue the worker reads: SendMessageBatch calls of up to 10 entries and up to
// ENQUEUE_BATCH_MAX_BYTES, after a short linger. Each message carries the `event_name` attribute, as
// Canvas's own SQS delivery does (the worker's filter reads it). A send resolves only once SQS accepted
// that message; failed entries and failed calls are retried with back-off within a budget, after which
// the send rejects (the request is answered 503 and Canvas retries).
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { backoffMs, sleep } from '../worker/backoff.js';
import { describeError, type CallReport } from '../worker/faults.js';
import { SQS_BATCH } from '../worker/sqs.js';
import { sqsAttributeText } from '../sqs-text.js';

export interface EnqueuerOptions {
  lingerMs: number;
  maxBatchBytes: number;
  retryBudgetMs: number;
  faults?: CallReport;
}

interface Pending {
  body: string;
  eventName: string;
  bytes: number;
  deadline: number;
  attempt: number;
  /** Answered: accepted, or refused at the deadline (a call still in flight then may yet enqueue it: a duplicate, never a loss). */
  settled: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A send SQS did not accept within the retry budget. */
export class EnqueueError extends Error {
  override readonly name = 'EnqueueError';
}

/**
 * The longest one SendMessageBatch call is waited for (SQS answers in tens of milliseconds), and never
 * past the retry budget: then the call counts as failed (what /healthz reads) and its entries are retried.
 * A call given up may still enqueue its messages later: a duplicate with the same event id, never a loss.
 */
export const CALL_TIMEOUT_MS = 2_000;

/** SQS counts a message's size as its body plus each attribute's name, type and value. */
const ATTRIBUTE_BYTES = 'event_name'.length + 'String'.length;

export class Enqueuer {
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly o: EnqueuerOptions,
  ) {}

  /**
   * Resolves once SQS accepted the message; rejects with an EnqueueError once the retry budget is spent,
   * also while a call is still waiting for SQS's answer (an endpoint that hangs cannot hold the request).
   */
  send(body: string, name: string): Promise<void> {
    // The attribute as SQS takes it (a character it refuses would fail the whole call).
    const eventName = sqsAttributeText(name);
    const bytes = Buffer.byteLength(body) + ATTRIBUTE_BYTES + Buffer.byteLength(eventName);
    return new Promise((resolve, reject) => {
      const p: Pending = {
        body,
        eventName,
        bytes,
        deadline: Date.now() + this.o.retryBudgetMs,
        attempt: 0,
        settled: false,
        resolve: () => {
          clearTimeout(timer);
          p.settled = true;
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          p.settled = true;
          reject(err);
        },
      };
      const timer = setTimeout(() => p.settled || p.reject(new EnqueueError(`SQS did not accept the message within ${this.o.retryBudgetMs} ms (no answer yet)`)), this.o.retryBudgetMs);
      this.add(p);
    });
  }

  /** Sends what is waiting and waits for every call (retries included) to end. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size || this.queue.length) {
      await Promise.allSettled([...this.inFlight]);
      this.flush();
    }
  }

  private add(p: Pending): void {
    // A message that would take the batch over its byte limit starts the next one (one larger than the limit goes alone).
    if (this.queue.length && this.queuedBytes + p.bytes > this.o.maxBatchBytes) this.flush();
    this.queue.push(p);
    this.queuedBytes += p.bytes;
    if (this.queue.length >= SQS_BATCH || this.queuedBytes >= this.o.maxBatchBytes) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.o.lingerMs);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    // One answered 503 at its deadline while waiting here is not sent: the sender retries it.
    const batch = this.queue.filter((p) => !p.settled);
    this.queue = [];
    this.queuedBytes = 0;
    if (!batch.length) return;
    const call = this.sendBatch(batch).finally(() => this.inFlight.delete(call));
    this.inFlight.add(call);
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    const entries: SendMessageBatchRequestEntry[] = batch.map((p, i) => ({
      Id: String(i),
      MessageBody: p.body,
      MessageAttributes: { event_name: { DataType: 'String', StringValue: p.eventName } },
    }));
    let failed: { p: Pending; why: string }[];
    try {
      const deadlineMs = Math.max(1, Math.min(CALL_TIMEOUT_MS, Math.min(...batch.map((p) => p.deadline)) - Date.now()));
      const out = await withDeadline(this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries })), deadlineMs);
      const refused = new Map((out.Failed ?? []).map((f) => [f.Id, `${f.Code ?? 'Failed'}: ${f.Message ?? ''}`]));
      // An entry in neither list was not accepted either: it is retried.
      const accepted = new Set((out.Successful ?? []).map((s) => s.Id));
      // A call whose every entry SQS refused is a failed call, for /healthz as for the retries.
      const first = out.Failed?.[0];
      if (!accepted.size && first) this.o.faults?.failed('SendMessageBatch', { name: first.Code ?? 'Failed', message: `every entry refused: ${first.Message ?? first.Code ?? ''}` });
      else this.o.faults?.succeeded('SendMessageBatch');
      failed = [];
      batch.forEach((p, i) => {
        if (accepted.has(String(i)) && !refused.has(String(i))) p.resolve();
        else failed.push({ p, why: refused.get(String(i)) ?? 'not in the answer' });
      });
    } catch (err) {
      this.o.faults?.failed('SendMessageBatch', err);
      failed = batch.map((p) => ({ p, why: describeError(err) }));
    }
    for (const { p, why } of failed) this.retry(p, why);
  }

  private retry(p: Pending, why: string): void {
    if (p.settled) return;
    const delay = backoffMs(p.attempt++, 50, 1_000);
    if (Date.now() + delay > p.deadline) {
      p.reject(new EnqueueError(`SQS did not accept the message within ${this.o.retryBudgetMs} ms (last: ${why})`));
      return;
    }
    const wait = sleep(delay).then(() => this.add(p));
    const tracked = wait.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}

/** The call's answer, or a TimeoutError once `ms` have passed without one (the call itself is left to end on its own). */
function withDeadline<T>(call: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { name: 'TimeoutError' })), ms);
  });
  call.catch(() => {});
  return Promise.race([call, late]).finally(() => clearTimeout(timer));
}
