// A lean in-memory SQS endpoint for `npm run bench:e2e`: the calls the worker, the naive worker and the
// bench make, in the AWS JSON 1.0 protocol the SDK speaks, with SQS's semantics where they matter to a
// consumer — at most 10 messages per receive, long polls that return as soon as a message is visible,
// visibility timeouts (messages not deleted in time come back, with a new receipt handle and a higher
// ApproximateReceiveCount), batch results per entry, and the body MD5 the SDK checks. Not SQS: one
// account, no FIFO, no redrive, no attribute MD5, no limits beyond the batch sizes.
//
// Why not local-aws-sqs: it spends ~300 µs of CPU per message (send + receive + delete) on this
// machine, so at the rates the worker reaches it would need more than a core — the bench would
// measure the emulator. This one spends a few µs per message; the bench reports its CPU share.
import { createHash, randomUUID } from 'node:crypto';
import type http from 'node:http';
import { awsJsonServer, ClientError } from './aws-json.js';

interface Stored {
  id: string;
  body: string;
  md5: string;
  attributes?: Record<string, unknown>;
  sentAt: number;
  receives: number;
  firstReceiveAt: number;
  /** The receipt handle of the current receive; empty while visible. */
  handle: string;
  visibleAt: number;
}

interface Waiter {
  max: number;
  visibilityS: number;
  answer: (messages: Stored[]) => void;
  timer: NodeJS.Timeout;
}

class Queue {
  /** Visible messages, oldest first (`head` is the next one: no O(n) shift). */
  private visible: Stored[] = [];
  private head = 0;
  readonly inFlight = new Map<string, Stored>();
  readonly waiters: Waiter[] = [];

  constructor(
    readonly name: string,
    readonly visibilityTimeoutS: number,
  ) {}

  get visibleCount(): number {
    return this.visible.length - this.head;
  }

  push(m: Stored): void {
    this.visible.push(m);
  }

  take(max: number, visibilityS: number, now: number): Stored[] {
    const out: Stored[] = [];
    while (out.length < max && this.head < this.visible.length) {
      const m = this.visible[this.head++]!;
      m.receives++;
      m.firstReceiveAt ||= now;
      m.handle = `${m.id}.${m.receives}.${randomUUID()}`;
      m.visibleAt = now + visibilityS * 1000;
      this.inFlight.set(m.id, m);
      out.push(m);
    }
    if (this.head > 4096 && this.head * 2 > this.visible.length) {
      this.visible = this.visible.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Messages whose visibility timeout ran out become visible again. */
  expire(now: number): void {
    for (const m of this.inFlight.values()) {
      if (m.visibleAt <= now) this.makeVisible(m);
    }
  }

  makeVisible(m: Stored): void {
    this.inFlight.delete(m.id);
    m.handle = '';
    this.visible.push(m);
  }

  /** Long polls waiting on this queue get what is visible now, oldest poll first. */
  serveWaiters(now: number): void {
    while (this.waiters.length && this.visibleCount) {
      const w = this.waiters.shift()!;
      clearTimeout(w.timer);
      w.answer(this.take(w.max, w.visibilityS, now));
    }
  }
}

/** Counters the bench reads from GET /stats. */
export interface LeanSqsStats {
  sent: number;
  received: number;
  deleted: number;
  visibilityChanges: number;
  calls: number;
  /** Calls by action. */
  actions: Record<string, number>;
}


const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export function createLeanSqs(): http.Server {
  const queues = new Map<string, Queue>();
  const stats: LeanSqsStats = { sent: 0, received: 0, deleted: 0, visibilityChanges: 0, calls: 0, actions: {} };
  let origin = 'http://127.0.0.1';

  const queueOf = (url: unknown): Queue => {
    const name = String(url ?? '').split('/').pop() ?? '';
    const q = queues.get(name);
    if (!q) throw new ClientError('QueueDoesNotExist', `The specified queue does not exist: ${String(url)}`);
    return q;
  };

  const present = (m: Stored, wanted: Set<string> | 'all', messageAttributes: boolean) => {
    const all: Record<string, string> = {
      ApproximateReceiveCount: String(m.receives),
      SentTimestamp: String(m.sentAt),
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt),
      SenderId: '000000000000',
    };
    const attributes = wanted === 'all' ? all : Object.fromEntries(Object.entries(all).filter(([k]) => wanted.has(k)));
    return {
      MessageId: m.id,
      ReceiptHandle: m.handle,
      MD5OfBody: m.md5,
      Body: m.body,
      ...(Object.keys(attributes).length ? { Attributes: attributes } : {}),
      ...(messageAttributes && m.attributes ? { MessageAttributes: m.attributes } : {}),
    };
  };

  /** Settles a receipt handle: the in-flight message it names, or a reason it names none. */
  const byHandle = (q: Queue, handle: unknown): Stored | undefined => {
    const id = String(handle ?? '').split('.')[0]!;
    const m = q.inFlight.get(id);
    return m && m.handle === handle ? m : undefined;
  };

  const actions: Record<string, (input: any) => unknown | Promise<unknown>> = {
    CreateQueue: (input) => {
      const name = String(input.QueueName);
      if (!queues.has(name)) queues.set(name, new Queue(name, Number(input.Attributes?.VisibilityTimeout ?? 30)));
      return { QueueUrl: `${origin}/000000000000/${name}` };
    },
    GetQueueUrl: (input) => ({ QueueUrl: `${origin}/000000000000/${queueOf(`/${input.QueueName}`).name}` }),
    GetQueueAttributes: (input) => {
      const q = queueOf(input.QueueUrl);
      return {
        Attributes: {
          QueueArn: `arn:aws:sqs:us-east-1:000000000000:${q.name}`,
          ApproximateNumberOfMessages: String(q.visibleCount),
          ApproximateNumberOfMessagesNotVisible: String(q.inFlight.size),
          VisibilityTimeout: String(q.visibilityTimeoutS),
        },
      };
    },
    SendMessageBatch: (input) => {
      const q = queueOf(input.QueueUrl);
      const entries = input.Entries as { Id: string; MessageBody: string; MessageAttributes?: Record<string, unknown> }[];
      if (!entries?.length || entries.length > 10) throw new ClientError('TooManyEntriesInBatchRequest', 'between 1 and 10 entries');
      const now = Date.now();
      const Successful = entries.map((e) => {
        const m: Stored = { id: randomUUID(), body: e.MessageBody, md5: md5(e.MessageBody), attributes: e.MessageAttributes, sentAt: now, receives: 0, firstReceiveAt: 0, handle: '', visibleAt: 0 };
        q.push(m);
        return { Id: e.Id, MessageId: m.id, MD5OfMessageBody: m.md5 };
      });
      stats.sent += entries.length;
      q.serveWaiters(now);
      return { Successful, Failed: [] };
    },
    SendMessage: (input) => {
      const q = queueOf(input.QueueUrl);
      const now = Date.now();
      const m: Stored = { id: randomUUID(), body: input.MessageBody, md5: md5(input.MessageBody), attributes: input.MessageAttributes, sentAt: now, receives: 0, firstReceiveAt: 0, handle: '', visibleAt: 0 };
      q.push(m);
      stats.sent++;
      q.serveWaiters(now);
      return { MessageId: m.id, MD5OfMessageBody: m.md5 };
    },
    ReceiveMessage: (input) => {
      const q = queueOf(input.QueueUrl);
      const max = Math.min(10, Math.max(1, Number(input.MaxNumberOfMessages ?? 1)));
      const visibilityS = Number(input.VisibilityTimeout ?? q.visibilityTimeoutS);
      const names: string[] = [...(input.MessageSystemAttributeNames ?? []), ...(input.AttributeNames ?? [])];
      const wanted: Set<string> | 'all' = names.includes('All') ? 'all' : new Set(names);
      const messageAttributes = (input.MessageAttributeNames ?? []).length > 0;
      const answer = (ms: Stored[]) => {
        stats.received += ms.length;
        return { Messages: ms.map((m) => present(m, wanted, messageAttributes)) };
      };
      const now = Date.now();
      const ready = q.take(max, visibilityS, now);
      const waitS = Number(input.WaitTimeSeconds ?? 0);
      if (ready.length || waitS <= 0) return answer(ready);
      return new Promise((resolve) => {
        const w: Waiter = {
          max,
          visibilityS,
          answer: (ms) => resolve(answer(ms)),
          timer: setTimeout(() => {
            q.waiters.splice(q.waiters.indexOf(w), 1);
            resolve(answer([]));
          }, waitS * 1000),
        };
        q.waiters.push(w);
      });
    },
    DeleteMessage: (input) => {
      const q = queueOf(input.QueueUrl);
      const m = byHandle(q, input.ReceiptHandle);
      if (m) q.inFlight.delete(m.id);
      stats.deleted++;
      return {};
    },
    DeleteMessageBatch: (input) => {
      const q = queueOf(input.QueueUrl);
      const Successful: { Id: string }[] = [];
      const Failed: { Id: string; Code: string; Message: string; SenderFault: boolean }[] = [];
      for (const e of input.Entries as { Id: string; ReceiptHandle: string }[]) {
        const id = String(e.ReceiptHandle ?? '').split('.')[0]!;
        const m = q.inFlight.get(id);
        // As SQS: deleting a message that is gone already succeeds; a handle of an older receive does not.
        if (m && m.handle !== e.ReceiptHandle) {
          Failed.push({ Id: e.Id, Code: 'ReceiptHandleIsInvalid', Message: 'The receipt handle is not the current one', SenderFault: true });
          continue;
        }
        if (m) q.inFlight.delete(id);
        stats.deleted++;
        Successful.push({ Id: e.Id });
      }
      return { Successful, Failed };
    },
    ChangeMessageVisibility: (input) => {
      const q = queueOf(input.QueueUrl);
      const m = byHandle(q, input.ReceiptHandle);
      if (!m) throw new ClientError('MessageNotInflight', 'The message is not in flight');
      changeVisibility(q, m, Number(input.VisibilityTimeout));
      return {};
    },
    ChangeMessageVisibilityBatch: (input) => {
      const q = queueOf(input.QueueUrl);
      const Successful: { Id: string }[] = [];
      const Failed: { Id: string; Code: string; Message: string; SenderFault: boolean }[] = [];
      for (const e of input.Entries as { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[]) {
        const m = byHandle(q, e.ReceiptHandle);
        if (!m) Failed.push({ Id: e.Id, Code: 'MessageNotInflight', Message: 'The message is not in flight', SenderFault: true });
        else {
          changeVisibility(q, m, Number(e.VisibilityTimeout));
          Successful.push({ Id: e.Id });
        }
      }
      return { Successful, Failed };
    },
  };

  function changeVisibility(q: Queue, m: Stored, seconds: number): void {
    stats.visibilityChanges++;
    if (seconds <= 0) {
      q.makeVisible(m);
      q.serveWaiters(Date.now());
    } else m.visibleAt = Date.now() + seconds * 1000;
  }

  const expiry = setInterval(() => {
    const now = Date.now();
    for (const q of queues.values()) {
      q.expire(now);
      q.serveWaiters(now);
    }
  }, 100);
  expiry.unref();

  const server = awsJsonServer({
    version: '1.0',
    actions,
    stats,
    errorType: (type) => `com.amazonaws.sqs#${type === 'InternalFailure' ? 'InternalError' : type}`,
    unknownAction: 'InvalidAction',
  });
  server.on('listening', () => {
    const a = server.address();
    if (a && typeof a === 'object') origin = `http://127.0.0.1:${a.port}`;
  });
  return server;
}
