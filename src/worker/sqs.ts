// The SQS side of the worker: batched deletes (acknowledgement), visibility changes (heartbeat and
// back-off), and parking poison messages in the dead-letter queue.
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { backoffMs, sleep } from './backoff.js';
import type { CallReport } from './faults.js';
import { ATTRIBUTE_MAX_BYTES, SQS_MESSAGE_MAX_BYTES, sqsAttributeText } from '../sqs-text.js';

export async function queueArn(client: SQSClient, queueUrl: string): Promise<string> {
  const out = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return out.Attributes!.QueueArn!;
}

/** SQS batch calls take at most 10 entries. */
export const SQS_BATCH = 10;

const chunks = <T>(items: T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

export interface AcknowledgerOptions {
  lingerMs?: number;
  maxAttempts?: number;
  faults?: CallReport;
}

interface PendingDelete {
  message: Message;
  attempt: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Deletes acknowledged messages in DeleteMessageBatch calls of up to 10, after a short linger. An
 * entry the batch call fails (or a failed call) is retried a few times; if it still fails the
 * message simply comes back later, and its deterministic event id makes the duplicate harmless.
 */
export class Acknowledger {
  private queue: PendingDelete[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();

  private readonly lingerMs: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly options: AcknowledgerOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 10;
    this.maxAttempts = options.maxAttempts ?? 4;
  }

  delete(message: Message): Promise<void> {
    return new Promise((resolve, reject) => this.add({ message, attempt: 0, resolve, reject }));
  }

  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size || this.queue.length) {
      await Promise.allSettled([...this.inFlight]);
      this.flush();
    }
  }

  private add(p: PendingDelete): void {
    this.queue.push(p);
    if (this.queue.length >= SQS_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const batch of chunks(this.queue.splice(0), SQS_BATCH)) {
      const call = this.send(batch).finally(() => this.inFlight.delete(call));
      this.inFlight.add(call);
    }
  }

  private async send(batch: PendingDelete[]): Promise<void> {
    const byId = new Map(batch.map((p, i) => [String(i), p]));
    let failed: [PendingDelete, string][] = [];
    try {
      const out = await this.client.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: batch.map((p, i) => ({ Id: String(i), ReceiptHandle: p.message.ReceiptHandle })) }),
      );
      this.options.faults?.succeeded('DeleteMessageBatch');
      for (const ok of out.Successful ?? []) byId.get(ok.Id!)?.resolve();
      failed = (out.Failed ?? []).map((f) => [byId.get(f.Id!)!, `${f.Code}: ${f.Message ?? ''}`]);
    } catch (err) {
      this.options.faults?.failed('DeleteMessageBatch', err);
      failed = batch.map((p) => [p, `DeleteMessageBatch failed: ${(err as Error).message}`]);
    }
    for (const [p, reason] of failed) {
      if (++p.attempt >= this.maxAttempts) p.reject(new Error(`could not delete message ${p.message.MessageId}: ${reason}`));
      else {
        const retry = sleep(backoffMs(p.attempt, 50, 2_000)).then(() => this.add(p));
        this.inFlight.add(retry);
        void retry.finally(() => this.inFlight.delete(retry));
      }
    }
  }
}

/** Sets the visibility timeout of messages (≤ 10 per call); returns the ids SQS refused. */
export async function changeVisibility(client: SQSClient, queueUrl: string, messages: Message[], seconds: number, faults?: CallReport): Promise<string[]> {
  const refused: string[] = [];
  for (const batch of chunks(messages, SQS_BATCH)) {
    try {
      const out = await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: seconds })),
        }),
      );
      faults?.succeeded('ChangeMessageVisibilityBatch');
      for (const f of out.Failed ?? []) refused.push(batch[Number(f.Id)]?.MessageId ?? f.Id!);
    } catch (err) {
      faults?.failed('ChangeMessageVisibilityBatch', err);
      refused.push(...batch.map((m) => m.MessageId ?? ''));
    }
  }
  return refused;
}

/** A String attribute SQS accepts (src/sqs-text.ts): its characters replaced where SQS refuses them, cut to `maxBytes`. */
const attr = (value: string, maxBytes = ATTRIBUTE_MAX_BYTES): MessageAttributeValue => ({ DataType: 'String', StringValue: sqsAttributeText(value, maxBytes) });

/** What SQS counts of a message: its body and each attribute's name, type and value, in bytes. */
const messageBytes = (body: string, attributes: Record<string, MessageAttributeValue>): number =>
  Object.entries(attributes).reduce((n, [name, a]) => n + Buffer.byteLength(name) + Buffer.byteLength(a.DataType ?? '') + Buffer.byteLength(a.StringValue ?? '') + (a.BinaryValue?.length ?? 0), Buffer.byteLength(body));

/**
 * The attributes sendToDlq adds about the failure; replay-dlq removes them when it sends a message back
 * to its source. (It also sets event_name, which it keeps: Canvas itself sends an event_name attribute.)
 */
export const ERROR_ATTRIBUTES: readonly string[] = ['error_code', 'error_message', 'original_message_id', 'receive_count'];

/**
 * Parks a message that can never be mapped in the DLQ: the original body and attributes, plus
 * error_code, error_message, event_name, original_message_id and receive_count. A message that is
 * already a DLQ message (replay-dlq re-parking it with a new reason) keeps its original id and count.
 * Returns the new message's id.
 */
export async function sendToDlq(client: SQSClient, dlqUrl: string, message: Message, error: { code: string; message: string; eventName?: string }): Promise<string | undefined> {
  const prior = message.MessageAttributes ?? {};
  const receiveCount = prior.receive_count?.StringValue ?? message.Attributes?.ApproximateReceiveCount;
  const originalId = prior.original_message_id?.StringValue ?? message.MessageId;
  const ours: Record<string, MessageAttributeValue> = {
    error_code: attr(error.code),
    error_message: attr(error.message),
    ...(error.eventName ? { event_name: attr(error.eventName) } : {}),
    ...(originalId ? { original_message_id: attr(originalId) } : {}),
    ...(receiveCount ? { receive_count: { DataType: 'Number', StringValue: receiveCount } } : {}),
  };
  // SQS allows 10 message attributes: keep ours, then as many of the original ones as fit.
  const original = Object.entries(prior).filter(([k]) => !(k in ours)).slice(0, 10 - Object.keys(ours).length);
  const body = message.Body ?? '';
  const attributes = { ...Object.fromEntries(original), ...ours };
  // The original message fitted SQS's size limit; ours are added to it: the reason gives way where they would not fit
  // (down to its first 256 bytes, which say what failed).
  const over = messageBytes(body, attributes) - SQS_MESSAGE_MAX_BYTES;
  if (over > 0) attributes.error_message = attr(error.message, Math.max(256, Buffer.byteLength(attributes.error_message!.StringValue!) - over));
  const out = await client.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body, MessageAttributes: attributes }));
  return out?.MessageId;
}
