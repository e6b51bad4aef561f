// The worker against mocked AWS clients (aws-sdk-client-mock): retries, acknowledgement, heartbeat,
// poison messages, event type filters, shutdown, configuration.
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../src/config.js';
import { mapJson } from '../src/engine.js';
import { KinesisPublisher } from '../src/worker/kinesis.js';
import { startStats } from '../src/worker/observe.js';
import { runWorker } from '../src/worker/run.js';
import { Acknowledger } from '../src/worker/sqs.js';
import { Worker } from '../src/worker/worker.js';
import { queueOf as queueMessages, userEvent } from './helpers.js';

const QUEUE = 'http://localhost:9324/000000000000/canvas';
const DLQ = 'http://localhost:9324/000000000000/canvas-dlq';
const sqsMock = mockClient(SQSClient);
const kinesisMock = mockClient(KinesisClient);
const logger = pino({ level: 'silent' });
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function config(env: Record<string, string> = {}): Config {
  return loadConfig({ SQS_QUEUE_URL: QUEUE, DLQ_URL: DLQ, KINESIS_STREAM_NAME: 'caliper', AWS_REGION: 'us-east-1', BATCH_LINGER_MS: '5', RETRY_BUDGET_MS: '2000', POLLERS: '1', ...env });
}

const page = (id: string, eventName = 'wiki_page_created') => JSON.stringify(userEvent(eventName, { wiki_page_id: id, title: `Page ${id}` }));
const message = (id: string, body = page(id)): Message => ({ MessageId: `m-${id}`, ReceiptHandle: `rh-${id}`, Body: body, Attributes: { ApproximateReceiveCount: '1' } });

const queueOf = (messages: Message[]) => queueMessages(sqsMock, messages);

function allAccepted(): void {
  kinesisMock.on(PutRecordsCommand).callsFake(async (input) => ({ FailedRecordCount: 0, Records: input.Records.map((_: unknown, i: number) => ({ SequenceNumber: String(i), ShardId: 'shardId-0' })) }));
}

function deletesSucceed(): void {
  sqsMock.on(DeleteMessageBatchCommand).callsFake(async (input) => ({ Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] }));
}

const deleted = () => sqsMock.commandCalls(DeleteMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.ReceiptHandle));

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await wait(10);
  }
}

beforeEach(() => {
  sqsMock.reset();
  kinesisMock.reset();
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
});
afterEach(() => {
  sqsMock.reset();
  kinesisMock.reset();
});

describe('KinesisPublisher', () => {
  const publisher = (opts: Partial<ConstructorParameters<typeof KinesisPublisher>[1]> = {}) =>
    new KinesisPublisher(new KinesisClient({ region: 'us-east-1' }), { stream: { StreamName: 's' }, maxRecords: 500, maxBytes: 5 * 1024 * 1024, lingerMs: 5, ...opts });

  it('retries the entries a PutRecords call refused until Kinesis accepts them', async () => {
    let call = 0;
    kinesisMock.on(PutRecordsCommand).callsFake(async (input) => {
      call++;
      return {
        FailedRecordCount: call === 1 ? 1 : 0,
        Records: input.Records.map((_: unknown, i: number) => (call === 1 && i === 1 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'x' } : { SequenceNumber: '1', ShardId: 's' })),
      };
    });
    const p = publisher();
    const deadline = Date.now() + 5_000;
    await Promise.all(['a', 'b', 'c'].map((k) => p.put(Buffer.from(k), k, deadline)));
    const calls = kinesisMock.commandCalls(PutRecordsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.Records!.map((r) => r.PartitionKey)).toEqual(['a', 'b', 'c']);
    expect(calls[1]!.args[0].input.Records!.map((r) => r.PartitionKey)).toEqual(['b']);
  });

  it('backs off on throttling, and retries a call that failed outright', async () => {
    let call = 0;
    kinesisMock.on(PutRecordsCommand).callsFake(async (input) => {
      call++;
      if (call === 1) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      if (call === 2) return { FailedRecordCount: 1, Records: input.Records.map(() => ({ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' })) };
      return { FailedRecordCount: 0, Records: input.Records.map(() => ({ SequenceNumber: '1', ShardId: 's' })) };
    });
    let retries = 0;
    const p = publisher({ onRetry: () => retries++ });
    await p.put(Buffer.from('x'), 'k', Date.now() + 10_000);
    expect(call).toBe(3);
    expect(retries).toBe(2);
  });

  it('rejects a record that is not accepted within its deadline', async () => {
    kinesisMock.on(PutRecordsCommand).callsFake(async (input) => ({ FailedRecordCount: 1, Records: input.Records.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'down' })) }));
    await expect(publisher().put(Buffer.from('x'), 'k', Date.now() + 300)).rejects.toThrow(/not accepted by Kinesis within the retry budget .*InternalFailure: down/);
  });

  it('splits batches at the record and byte limits', async () => {
    allAccepted();
    const p = publisher({ maxRecords: 2, maxBytes: 1024 * 1024 });
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((k) => p.put(Buffer.alloc(300 * 1024), k, Date.now() + 5_000)));
    const sizes = kinesisMock.commandCalls(PutRecordsCommand).map((c) => c.args[0].input.Records!.length);
    expect(sizes.reduce((a, b) => a + b)).toBe(5);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
  });
});

describe('Acknowledger', () => {
  it('retries the entries DeleteMessageBatch reports as failed', async () => {
    let call = 0;
    sqsMock.on(DeleteMessageBatchCommand).callsFake(async (input) => {
      call++;
      const entries = input.Entries as { Id: string }[];
      if (call === 1) return { Successful: entries.slice(1).map((e) => ({ Id: e.Id })), Failed: [{ Id: entries[0]!.Id, Code: 'InternalError', SenderFault: false }] };
      return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
    });
    const acker = new Acknowledger(new SQSClient({ region: 'us-east-1' }), QUEUE, { lingerMs: 5 });
    await Promise.all([message('1'), message('2'), message('3')].map((m) => acker.delete(m)));
    expect(deleted()).toEqual(['rh-1', 'rh-2', 'rh-3', 'rh-1']);
  });
});

describe('Worker', () => {
  it('publishes every message and deletes each only after Kinesis accepted it', async () => {
    const order: string[] = [];
    kinesisMock.on(PutRecordsCommand).callsFake(async (input) => {
      order.push('put');
      return { FailedRecordCount: 0, Records: input.Records.map(() => ({ SequenceNumber: '1', ShardId: 's' })) };
    });
    sqsMock.on(DeleteMessageBatchCommand).callsFake(async (input) => {
      order.push('delete');
      return { Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] };
    });
    queueOf(['1', '2', '3'].map((id) => message(id)));
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), kinesis: new KinesisClient({ region: 'us-east-1' }), config: config(), logger });
    worker.start();
    await until(() => worker.counters.acknowledged === 3);
    await worker.stop();
    expect(order[0]).toBe('put');
    expect(deleted().sort()).toEqual(['rh-1', 'rh-2', 'rh-3']);
    const records = kinesisMock.commandCalls(PutRecordsCommand).flatMap((c) => c.args[0].input.Records!);
    expect(records.map((r) => JSON.parse(Buffer.from(r.Data!).toString()).data[0].object.name).sort()).toEqual(['Page 1', 'Page 2', 'Page 3']);
    expect(records[0]!.PartitionKey).toBe('urn:instructure:canvas:user:21070000000000001');
  });

  it('sends poison to the DLQ with error_code and error_message, then deletes it; the rest still publish', async () => {
    allAccepted();
    deletesSucceed();
    queueOf([message('1'), message('bad', '{"metadata": nope'), message('unknown', JSON.stringify(userEvent('no_such_event', {}))), message('2')]);
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), kinesis: new KinesisClient({ region: 'us-east-1' }), config: config(), logger });
    worker.start();
    await until(() => worker.counters.acknowledged === 4);
    await worker.stop();
    const sent = sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(sent).toHaveLength(2);
    const bad = sent.find((s) => s.MessageBody === '{"metadata": nope')!;
    expect(bad.QueueUrl).toBe(DLQ);
    expect(bad.MessageAttributes!.error_code!.StringValue).toBe('INVALID_JSON');
    expect(bad.MessageAttributes!.original_message_id!.StringValue).toBe('m-bad');
    const unknown = sent.find((s) => s.MessageAttributes!.error_code!.StringValue === 'UNKNOWN_EVENT')!;
    expect(unknown.MessageAttributes!.event_name!.StringValue).toBe('no_such_event');
    expect(unknown.MessageAttributes!.error_message!.StringValue).toContain('unsupported event_name');
    expect(deleted().sort()).toEqual(['rh-1', 'rh-2', 'rh-bad', 'rh-unknown']);
    expect(worker.counters).toMatchObject({ received: 4, published: 2, sentToDlq: 2, acknowledged: 4 });
  });

  it('sends a message whose Caliper record would be over 1 MiB to the DLQ as RECORD_TOO_LARGE', async () => {
    allAccepted();
    deletesSucceed();
    const huge = JSON.stringify(userEvent('wiki_page_created', { wiki_page_id: '1', title: 'x'.repeat(1024 * 1024) }));
    queueOf([message('huge', huge)]);
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), kinesis: new KinesisClient({ region: 'us-east-1' }), config: config(), logger });
    worker.start();
    await until(() => worker.counters.acknowledged === 1);
    await worker.stop();
    expect(kinesisMock.commandCalls(PutRecordsCommand)).toHaveLength(0);
    const sent = sqsMock.commandCalls(SendMessageCommand)[0]!.args[0].input;
    expect(sent.MessageAttributes!.error_code!.StringValue).toBe('RECORD_TOO_LARGE');
    expect(sent.MessageAttributes!.error_message!.StringValue).toMatch(/over Kinesis's 1 MiB record limit/);
  });

  it('leaves a message whose record exhausts its retry budget in SQS, with a back-off on its visibility', async () => {
    kinesisMock.on(PutRecordsCommand).callsFake(async (input) => ({ FailedRecordCount: 1, Records: input.Records.map(() => ({ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' })) }));
    deletesSucceed();
    queueOf([message('1')]);
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), kinesis: new KinesisClient({ region: 'us-east-1' }), config: config({ RETRY_BUDGET_MS: '400' }), logger });
    worker.start();
    await until(() => worker.counters.released === 1);
    await worker.stop();
    expect(deleted()).toEqual([]);
    const visibility = sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input.Entries![0]!);
    expect(visibility).toContainEqual(expect.objectContaining({ ReceiptHandle: 'rh-1', VisibilityTimeout: 20 }));
  });

  it('extends the visibility of messages still in flight (heartbeat)', async () => {
    // Kinesis holds the record for longer than half the visibility timeout.
    kinesisMock.on(PutRecordsCommand).callsFake(async (input) => {
      await wait(6_000);
      return { FailedRecordCount: 0, Records: input.Records.map(() => ({ SequenceNumber: '1', ShardId: 's' })) };
    });
    deletesSucceed();
    queueOf([message('1')]);
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), kinesis: new KinesisClient({ region: 'us-east-1' }), config: config({ VISIBILITY_TIMEOUT_S: '10', HEARTBEAT_INTERVAL_S: '2', RETRY_BUDGET_MS: '7000' }), logger });
    worker.start();
    await until(() => worker.counters.acknowledged === 1, 10_000);
    await worker.stop();
    const heartbeats = sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input.Entries![0]!);
    expect(heartbeats).toContainEqual(expect.objectContaining({ ReceiptHandle: 'rh-1', VisibilityTimeout: 10 }));
  }, 15_000);

  it('on stop, finishes and acknowledges what is in flight before returning', async () => {
    kinesisMock.on(PutRecordsCommand).callsFake(async (input) => {
      await wait(300);
      return { FailedRecordCount: 0, Records: input.Records.map(() => ({ SequenceNumber: '1', ShardId: 's' })) };
    });
    deletesSucceed();
    queueOf(['1', '2', '3', '4', '5'].map((id) => message(id)));
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), kinesis: new KinesisClient({ region: 'us-east-1' }), config: config(), logger });
    worker.start();
    await until(() => worker.counters.received === 5);
    expect(worker.counters.acknowledged).toBe(0);
    const result = await worker.stop();
    expect(result).toEqual({ unfinished: 0 });
    expect(worker.counters.acknowledged).toBe(5);
    expect(deleted().sort()).toEqual(['rh-1', 'rh-2', 'rh-3', 'rh-4', 'rh-5']);
  });

  it('stops at once while a long poll is open, and makes what that poll brings afterwards visible again', async () => {
    let answer: (out: { Messages: Message[] }) => void = () => {};
    sqsMock.on(ReceiveMessageCommand).callsFake(() => new Promise((resolve) => (answer = resolve)));
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), kinesis: new KinesisClient({ region: 'us-east-1' }), config: config({ RECEIVE_WAIT_TIME_S: '20' }), logger });
    worker.start();
    await until(() => sqsMock.commandCalls(ReceiveMessageCommand).length === 1);
    const stopping = Date.now();
    expect(await worker.stop()).toEqual({ unfinished: 0 });
    expect(Date.now() - stopping).toBeLessThan(1_000);
    answer({ Messages: [message('1'), message('2')] });
    await until(() => sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).length === 1);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)[0]!.args[0].input.Entries).toEqual([
      { Id: '0', ReceiptHandle: 'rh-1', VisibilityTimeout: 0 },
      { Id: '1', ReceiptHandle: 'rh-2', VisibilityTimeout: 0 },
    ]);
    expect(worker.counters.received).toBe(0);
    expect(kinesisMock.commandCalls(PutRecordsCommand)).toHaveLength(0);
    // Sent with no per-call options: an options argument makes the SDK re-resolve its middleware stack
    // and drop the cached one of every other SQS call (bench/sdk-cost.ts: −35% of the SDK's CPU per event).
    expect(sqsMock.commandCalls(ReceiveMessageCommand).map((c) => c.args.length)).toEqual([1]);
  });
});

/** The problems loadConfig reports for `env`, in order. */
function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

/** runWorker's exit code and output. */
async function run(env: NodeJS.ProcessEnv) {
  let stdout = '';
  let stderr = '';
  const code = await runWorker({ env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('event type filters', () => {
  const attributed = (id: string, eventName: string, body: string): Message => ({ ...message(id, body), MessageAttributes: { event_name: { DataType: 'String', StringValue: eventName } } });
  const sns = (body: string) => JSON.stringify({ Type: 'Notification', MessageId: 'x', TopicArn: 'arn:aws:sns:us-east-1:123456789012:canvas', Message: body });
  const publishedNames = () => kinesisMock.commandCalls(PutRecordsCommand).flatMap((c) => c.args[0].input.Records!.map((r) => JSON.parse(Buffer.from(r.Data!).toString()).data[0].object.name)).sort();

  async function runOn(messages: Message[], env: Record<string, string>, beforeStart = (_worker: Worker) => {}): Promise<Worker> {
    allAccepted();
    deletesSucceed();
    queueOf(messages);
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), kinesis: new KinesisClient({ region: 'us-east-1' }), config: config(env), logger });
    beforeStart(worker);
    worker.start();
    await until(() => worker.counters.acknowledged === messages.length);
    await worker.stop();
    return worker;
  }

  it('deletes an excluded type and an unknown one (UNKNOWN_EVENTS=skip) unpublished, counted as skipped, never parked', async () => {
    const worker = await runOn(
      [
        message('1'),
        message('2', page('2', 'wiki_page_updated')),
        message('3', JSON.stringify(userEvent('no_such_event', {}))),
        attributed('4', 'wiki_page_updated', '{"metadata": not even JSON'), // the attribute decides before the body is parsed
        message('5', sns(page('5', 'wiki_page_updated'))),
        message('6', JSON.stringify(mapJson(page('6')))), // a Caliper envelope passes through
        message('7', sns(page('7'))),
      ],
      { EXCLUDE_EVENT_TYPES: 'wiki_page_updated', UNKNOWN_EVENTS: 'skip' },
    );
    expect(publishedNames()).toEqual(['Page 1', 'Page 6', 'Page 7']);
    expect(deleted().sort()).toEqual(['rh-1', 'rh-2', 'rh-3', 'rh-4', 'rh-5', 'rh-6', 'rh-7']);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(0);
    expect(worker.counters).toEqual({ received: 7, published: 3, acknowledged: 7, sentToDlq: 0, retries: 0, released: 0, skipped: 4 });
  });

  it('with an allow-list (EVENT_TYPES) skips every other type, unknown ones too; poison still goes to the DLQ', async () => {
    const worker = await runOn([message('1'), message('2', page('2', 'wiki_page_updated')), message('3', JSON.stringify(userEvent('no_such_event', {}))), message('bad', '{"metadata": nope')], {
      EVENT_TYPES: 'wiki_page_created',
    });
    expect(publishedNames()).toEqual(['Page 1']);
    const parked = sqsMock.commandCalls(SendMessageCommand).map((c) => [c.args[0].input.MessageBody, c.args[0].input.MessageAttributes!.error_code!.StringValue]);
    expect(parked).toEqual([['{"metadata": nope', 'INVALID_JSON']]);
    expect(deleted().sort()).toEqual(['rh-1', 'rh-2', 'rh-3', 'rh-bad']);
    expect(worker.counters).toEqual({ received: 4, published: 1, acknowledged: 4, sentToDlq: 1, retries: 0, released: 0, skipped: 2 });
  });

  it('with UNKNOWN_EVENTS=dlq (the default) parks an unknown type with UNKNOWN_EVENT; an excluded one is still skipped', async () => {
    const worker = await runOn([message('1'), message('2', page('2', 'wiki_page_updated')), message('3', JSON.stringify(userEvent('no_such_event', {})))], { EXCLUDE_EVENT_TYPES: 'wiki_page_updated' });
    expect(publishedNames()).toEqual(['Page 1']);
    const parked = sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(parked.map((p) => [p.QueueUrl, p.MessageAttributes!.error_code!.StringValue, p.MessageAttributes!.event_name!.StringValue])).toEqual([[DLQ, 'UNKNOWN_EVENT', 'no_such_event']]);
    expect(worker.counters).toEqual({ received: 3, published: 1, acknowledged: 3, sentToDlq: 1, retries: 0, released: 0, skipped: 1 });
  });

  it('counts skipped messages in the stats line, as an EMF metric, and in /metrics', async () => {
    const lines: any[] = [];
    let stopStats = () => {};
    const worker = await runOn([message('1'), message('2', page('2', 'wiki_page_updated')), message('3', page('3', 'wiki_page_updated'))], { EXCLUDE_EVENT_TYPES: 'wiki_page_updated' }, (w) => {
      stopStats = startStats(w, pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) }), 3600, 'caliper');
    });
    stopStats();
    expect(lines).toHaveLength(1);
    expect(lines[0].stats).toMatchObject({ received: 3, published: 1, acknowledged: 3, skipped: 2, errors: { credentials: 0, network: 0, throttled: 0, other: 0 } });
    expect(lines[0]).toMatchObject({ Stream: 'caliper', Received: 3, Published: 1, Skipped: 2 });
    expect(lines[0]._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toEqual(['Received', 'Published', 'Acknowledged', 'SentToDlq', 'Retries', 'Released', 'Skipped', 'InFlight', 'LagMs', 'AwsRetries', 'AwsTimeouts']);
    const { prometheus } = await import('../src/worker/observe.js');
    expect(prometheus(worker)).toContain('# TYPE canvas_caliper_skipped_total counter\ncanvas_caliper_skipped_total 2\n');
  });
});

describe('configuration', () => {
  it('names every bad or missing variable, the cross-field checks with the rest', () => {
    expect(problems({ MAX_IN_FLIGHT: 'lots', PARTITION_KEY: 'shard' })).toEqual([
      'SQS_QUEUE_URL: is required',
      'AWS_REGION is required (e.g. us-east-1)',
      'MAX_IN_FLIGHT must be a number',
      'PARTITION_KEY must be actor or object',
      'KINESIS_STREAM_NAME or KINESIS_STREAM_ARN is required',
    ]);
    expect(() => loadConfig({ SQS_QUEUE_URL: QUEUE, AWS_REGION: 'us-east-1' })).toThrow('KINESIS_STREAM_NAME or KINESIS_STREAM_ARN is required');
    expect(() => loadConfig({ SQS_QUEUE_URL: 'not a url', AWS_REGION: 'us-east-1', KINESIS_STREAM_NAME: 's' })).toThrow('SQS_QUEUE_URL must be a URL');
  });

  it('reports a cross-field problem in the same round as the others (issue 12)', () => {
    expect(problems({ SQS_QUEUE_URL: QUEUE, AWS_REGION: 'us-east-1', KINESIS_STREAM_NAME: 's', MAX_IN_FLIGHT: 'abc', VISIBILITY_TIMEOUT_S: '30', HEARTBEAT_INTERVAL_S: '10', RETRY_BUDGET_MS: '60000' })).toEqual([
      'MAX_IN_FLIGHT must be a number',
      'HEARTBEAT_INTERVAL_S (10) must be at most 1/4 of VISIBILITY_TIMEOUT_S (30 s)',
      'RETRY_BUDGET_MS (60000) must be below 3/4 of VISIBILITY_TIMEOUT_S (30 s)',
    ]);
    // A check whose own variable is bad is left out: its message would be about a value that is not there.
    expect(problems({ SQS_QUEUE_URL: QUEUE, AWS_REGION: 'us-east-1', KINESIS_STREAM_NAME: 's', VISIBILITY_TIMEOUT_S: 'soon', HEARTBEAT_INTERVAL_S: '10' })).toEqual(['VISIBILITY_TIMEOUT_S must be a number']);
  });

  it('run in production reports every problem at once, not only the missing queue (issue 12)', async () => {
    const r = await run({ NODE_ENV: 'production', MAX_IN_FLIGHT: 'abc' });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: [
        'canvas-caliper run: invalid configuration:',
        '  SQS_QUEUE_URL: is required (NODE_ENV=production: no embedded local services)',
        '  AWS_REGION is required (e.g. us-east-1)',
        '  MAX_IN_FLIGHT must be a number',
        '  KINESIS_STREAM_NAME or KINESIS_STREAM_ARN is required',
        '',
      ].join('\n'),
    });
  });

  it('run in embedded local mode (no SQS_QUEUE_URL) refuses a bad variable before starting anything (issue 12)', async () => {
    const r = await run({ MAX_IN_FLIGHT: 'abc', EVENT_TYPES: 'logged_in,no_such_event' });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: 'canvas-caliper run: invalid configuration:\n  MAX_IN_FLIGHT must be a number\n  EVENT_TYPES: no such event type: no_such_event (`canvas-caliper events` lists them)\n',
    });
  }, 60_000);

  it('checks the event type filters: known names only, something left to publish, dlq or skip', () => {
    const base = { SQS_QUEUE_URL: QUEUE, AWS_REGION: 'us-east-1', KINESIS_STREAM_NAME: 's' };
    expect(problems({ ...base, EVENT_TYPES: 'logged_in, no_such_event,wiki_page_created, nope', EXCLUDE_EVENT_TYPES: 'logged_out,bogus', UNKNOWN_EVENTS: 'drop' })).toEqual([
      'EVENT_TYPES: no such event type: no_such_event, nope (`canvas-caliper events` lists them)',
      'EXCLUDE_EVENT_TYPES: no such event type: bogus (`canvas-caliper events` lists them)',
      'UNKNOWN_EVENTS must be dlq or skip',
    ]);
    expect(problems({ ...base, EVENT_TYPES: ' , ' })).toEqual(['EVENT_TYPES lists no event type']);
    expect(problems({ ...base, EVENT_TYPES: 'logged_in,logged_out', EXCLUDE_EVENT_TYPES: 'logged_out, logged_in' })).toEqual(['EVENT_TYPES and EXCLUDE_EVENT_TYPES together leave no event type to publish']);
    expect(loadConfig({ ...base, EVENT_TYPES: ' logged_in ,,wiki_page_created', EXCLUDE_EVENT_TYPES: 'wiki_page_created', UNKNOWN_EVENTS: 'skip' })).toMatchObject({
      EVENT_TYPES: ['logged_in', 'wiki_page_created'],
      EXCLUDE_EVENT_TYPES: ['wiki_page_created'],
      UNKNOWN_EVENTS: 'skip',
    });
  });

  it('has sane defaults', () => {
    expect(config({ BATCH_LINGER_MS: '', RETRY_BUDGET_MS: '', POLLERS: '' })).toMatchObject({ MAX_IN_FLIGHT: 500, POLLERS: 4, BATCH_MAX_RECORDS: 500, BATCH_LINGER_MS: 50, VISIBILITY_TIMEOUT_S: 120, SHUTDOWN_TIMEOUT_MS: 25_000, PARTITION_KEY: 'actor', EVENT_ID: 'deterministic', UNHEALTHY_AFTER_S: 60, UNKNOWN_EVENTS: 'dlq' });
    expect(config()).toMatchObject({ EVENT_TYPES: undefined, EXCLUDE_EVENT_TYPES: undefined });
  });

  it('keeps the heartbeat well inside the visibility timeout', () => {
    expect(() => config({ VISIBILITY_TIMEOUT_S: '30', HEARTBEAT_INTERVAL_S: '10', RETRY_BUDGET_MS: '1000' })).toThrow('HEARTBEAT_INTERVAL_S (10) must be at most 1/4 of VISIBILITY_TIMEOUT_S (30 s)');
  });

  it('keeps the retry budget well inside the visibility timeout', () => {
    expect(() => config({ VISIBILITY_TIMEOUT_S: '30', HEARTBEAT_INTERVAL_S: '5', RETRY_BUDGET_MS: '60000' })).toThrow(/RETRY_BUDGET_MS \(60000\) must be below 3\/4 of VISIBILITY_TIMEOUT_S \(30 s\)/);
  });
});

describe('message bodies', () => {
  it('accepts a raw Canvas event wrapped in an SNS notification', async () => {
    const { decodeMessage } = await import('../src/worker/decode.js');
    const sns = JSON.stringify({ Type: 'Notification', MessageId: 'x', TopicArn: 'arn:aws:sns:us-east-1:123456789012:canvas', Message: page('7') });
    expect(decodeMessage(sns, {}).envelope.data[0].object.name).toBe('Page 7');
  });

  it('passes a valid Caliper envelope through unchanged, and rejects an invalid one as poison', async () => {
    const { decodeMessage } = await import('../src/worker/decode.js');
    const { mapJson } = await import('../src/engine.js');
    const envelope = mapJson(page('8'));
    expect(decodeMessage(JSON.stringify(envelope), {}).envelope).toEqual(envelope);
    const broken = structuredClone(envelope) as any;
    broken.data[0].type = 'ViewEvent';
    expect(() => decodeMessage(JSON.stringify(broken), {})).toThrow('ViewEvent does not allow action "Created"');
  });
});

describe('health and metrics', () => {
  it('/healthz answers 200 while the poll loop is alive, /metrics counts in Prometheus text', async () => {
    const { startHealthServer, healthcheck } = await import('../src/worker/observe.js');
    allAccepted();
    deletesSucceed();
    queueOf([message('1')]);
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), kinesis: new KinesisClient({ region: 'us-east-1' }), config: config(), logger });
    worker.start();
    await until(() => worker.counters.acknowledged === 1);
    const server = await startHealthServer(worker, 0, logger);
    const port = (server.address() as { port: number }).port;
    expect(await healthcheck(port)).toEqual({ ok: true });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('canvas_caliper_published_total 1');
    expect(metrics).toContain('canvas_caliper_sent_to_dlq_total 0');
    expect(metrics).toContain('canvas_caliper_skipped_total 0');
    await worker.stop();
    worker.lastPollAt = Date.now() - 120_000; // the poll loop has not completed a receive for 2 minutes
    expect(await healthcheck(port)).toEqual({ ok: false, problem: 'unhealthy (HTTP 503): no receive has finished for 120 s' });
    server.close();
    expect(await healthcheck(port)).toEqual({ ok: false, refused: true, problem: `connection refused on port ${port}` });
  });
});
