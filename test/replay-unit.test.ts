// replay-dlq against mocked SQS (failures local services cannot produce), its rate limiter, and its
// progress display.
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../src/replay/rate.js';
import { replayDlq } from '../src/replay/replay.js';
import { formatSummary, progressBar, progressLine } from '../src/replay/report.js';
import { userEvent } from './helpers.js';

const DLQ = 'http://localhost:9324/000000000000/canvas-dlq';
const SOURCE = 'http://localhost:9324/000000000000/canvas';
const sqsMock = mockClient(SQSClient);
afterEach(() => {
  sqsMock.reset();
  vi.useRealTimers();
});

const message = (id: string): Message => ({ MessageId: id, ReceiptHandle: `rh-${id}`, Body: JSON.stringify(userEvent('wiki_page_created', { wiki_page_id: id, title: id })) });

describe('replay-dlq --to-source when SQS refuses', () => {
  it('a message the source queue refuses stays in the DLQ, visible again, and is reported as still failing', async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '2' } });
    sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [message('1'), message('2')] }).resolves({ Messages: [] });
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'n1', MD5OfMessageBody: '' }], Failed: [{ Id: '1', Code: 'KMS.AccessDeniedException', SenderFault: true, Message: 'no key' }] });
    sqsMock.on(DeleteMessageBatchCommand).callsFake(async (input) => ({ Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] }));
    sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });

    const summary = await replayDlq({ dlqUrl: DLQ, mode: 'to-source', sourceUrl: SOURCE, concurrency: 1 }, { sqs: new SQSClient({ region: 'us-east-1' }) });

    expect(summary.moved).toBe(1);
    expect(summary.stillFailing).toEqual([{ messageId: '2', eventName: 'wiki_page_created', code: 'SEND_FAILED', reason: 'KMS.AccessDeniedException: no key' }]);
    const deleted = sqsMock.commandCalls(DeleteMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.ReceiptHandle));
    expect(deleted).toEqual(['rh-1']);
    const restored = sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => [e.ReceiptHandle, e.VisibilityTimeout]));
    expect(restored).toEqual([['rh-2', 0]]);
    expect(formatSummary(summary)).toMatch(/SEND_FAILED\s+1/);
  });

  it('a whole failed SendMessageBatch is retried before giving up, and nothing is deleted', async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1' } });
    sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [message('1')] }).resolves({ Messages: [] });
    sqsMock.on(SendMessageBatchCommand).rejects(Object.assign(new Error('slow down'), { name: 'RequestThrottled' }));
    sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });

    const summary = await replayDlq({ dlqUrl: DLQ, mode: 'to-source', sourceUrl: SOURCE, concurrency: 1 }, { sqs: new SQSClient({ region: 'us-east-1' }) });

    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(4);
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
    expect(summary.stillFailing.map((f) => f.code)).toEqual(['SEND_FAILED']);
  }, 20_000);
});

describe('rate limiter', () => {
  it('spaces batches to the rate: 10 at 10/s go at once, the next 10 a second later', async () => {
    vi.useFakeTimers({ now: 0 });
    const limiter = new RateLimiter(10);
    await limiter.take(10);
    let second = false;
    const next = limiter.take(10).then(() => (second = true));
    await vi.advanceTimersByTimeAsync(990);
    expect(second).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    await next;
    expect(second).toBe(true);
  });

  it('without a rate never waits', async () => {
    vi.useFakeTimers({ now: 0 });
    await new RateLimiter().take(1_000_000);
  });
});

describe('progress', () => {
  const p = { mode: 'to-source' as const, dryRun: false, total: 1000, scanned: 250, handled: 240, failing: 3, startedAt: 0 };

  it('shows done/total, what moved, what fails, rate and ETA', () => {
    expect(progressLine(p, 10_000)).toBe('250/1000 scanned · 240 moved · 3 still failing · 25.0 msg/s · ETA 0:30');
    expect(progressLine({ ...p, mode: 'direct', failing: 0 }, 10_000)).toBe('250/1000 scanned · 240 published · 25.0 msg/s · ETA 0:30');
    expect(progressLine({ ...p, mode: 'native', handled: 500 }, 3_600_000)).toBe('500/1000 moved · 3 still failing · 0.1 msg/s · ETA 1:00:00');
  });

  it('draws a bar filled in proportion', () => {
    expect(progressBar(p, 20, 10_000)).toBe('[#####---------------]  25% 250/1000 scanned · 240 moved · 3 still failing · 25.0 msg/s · ETA 0:30');
  });
});
