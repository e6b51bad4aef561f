// When the AWS calls fail (issue 11): one concise line per failure kind at a growing interval, errors
// counted by kind, /healthz and `healthcheck` turning unhealthy, no abort listener leak. A busy health
// port (issue 13), and `healthcheck` saying why it failed (issue 14).
import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';
import { loadConfig, type Config } from '../src/config.js';
import { ABORTED, sleep, unlessAborted } from '../src/worker/backoff.js';
import { describeError, faultKind, Faults } from '../src/worker/faults.js';
import { startHealthServer } from '../src/worker/observe.js';
import { runWorker } from '../src/worker/run.js';
import { Worker } from '../src/worker/worker.js';
import { userEvent } from './helpers.js';

const QUEUE = 'http://localhost:9324/000000000000/canvas';
const sqsMock = mockClient(SQSClient);
const kinesisMock = mockClient(KinesisClient);

const noCredentials = () => Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError', tryNextLink: false });
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4567'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
const NO_CREDENTIALS = 'CredentialsProviderError: Could not load credentials from any providers';

function config(env: Record<string, string> = {}): Config {
  return loadConfig({ SQS_QUEUE_URL: QUEUE, KINESIS_STREAM_NAME: 'caliper', AWS_REGION: 'us-east-1', POLLERS: '1', BATCH_LINGER_MS: '5', RETRY_BUDGET_MS: '2000', ...env });
}

/** A logger whose lines (no time, no pid) are kept in `lines`. */
function captured() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { lines, logger };
}

const newWorker = (logger: pino.Logger, env: Record<string, string> = {}) =>
  new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), kinesis: new KinesisClient({ region: 'us-east-1' }), config: config(env), logger });

/** GET on the local port (node:http, whose socket timers fake timers leave alone). */
const get = (port: number, path: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });

async function healthcheckCli(port: number | string) {
  let stdout = '';
  let stderr = '';
  const code = await main(['healthcheck', 'run'], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stdin: () => [], env: { HEALTH_PORT: String(port) } });
  return { code, stdout, stderr };
}

beforeEach(() => {
  sqsMock.reset();
  kinesisMock.reset();
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('a worker whose receives fail (issue 11)', () => {
  it('with no credentials: one concise line, repeats summarised at a growing interval, unhealthy after UNHEALTHY_AFTER_S, errors counted, no listener leak, recovery logged', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: 0 });
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // receive back-off: 200, 400, 800, 1600, 3200, then 5000 ms
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    sqsMock.on(ReceiveMessageCommand).rejects(noCredentials());
    const { lines, logger } = captured();
    const worker = newWorker(logger);
    const server = await startHealthServer(worker, 0, pino({ level: 'silent' }));
    const port = (server.address() as AddressInfo).port;
    worker.start();

    await vi.advanceTimersByTimeAsync(25_000);
    // Receives failed at 0, 0.2, 0.6, 1.4, 3.0, 6.2, 11.2, 16.2 and 21.2 s.
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(9);
    expect(lines).toEqual([
      { level: 40, operation: 'ReceiveMessage', kind: 'credentials', error: NO_CREDENTIALS, msg: `ReceiveMessage failed (credentials): ${NO_CREDENTIALS}` },
      { level: 40, operation: 'ReceiveMessage', kind: 'credentials', error: NO_CREDENTIALS, failures: 5, failingForS: 6, msg: `ReceiveMessage still failing (credentials) after 6 s: 5 more failures since the last line; last: ${NO_CREDENTIALS}` },
      { level: 40, operation: 'ReceiveMessage', kind: 'credentials', error: NO_CREDENTIALS, failures: 2, failingForS: 16, msg: `ReceiveMessage still failing (credentials) after 16 s: 2 more failures since the last line; last: ${NO_CREDENTIALS}` },
    ]);
    expect(await get(port, '/healthz')).toEqual({ status: 200, body: JSON.stringify({ healthy: true, lastPollAt: '1970-01-01T00:00:21.200Z' }) });
    expect(await healthcheckCli(port)).toEqual({ code: 0, stdout: '', stderr: '' });

    await vi.advanceTimersByTimeAsync(36_000); // 61 s: failing for longer than UNHEALTHY_AFTER_S (60)
    const reason = `ReceiveMessage has failed for 61 s (credentials: ${NO_CREDENTIALS})`;
    expect(await get(port, '/healthz')).toEqual({ status: 503, body: JSON.stringify({ healthy: false, reason, lastPollAt: '1970-01-01T00:00:56.200Z' }) });
    expect(await healthcheckCli(port)).toEqual({ code: 1, stdout: '', stderr: `canvas-caliper healthcheck: unhealthy (HTTP 503): ${reason}\n` });
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(16);
    expect((await get(port, '/metrics')).body).toContain(
      [
        '# TYPE canvas_caliper_errors_total counter',
        'canvas_caliper_errors_total{kind="credentials"} 16',
        'canvas_caliper_errors_total{kind="network"} 0',
        'canvas_caliper_errors_total{kind="throttled"} 0',
        'canvas_caliper_errors_total{kind="other"} 0',
      ].join('\n'),
    );
    // No listener left behind per failed receive (16 of them on the poller's one signal would warn; unit test below).
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);

    sqsMock.on(ReceiveMessageCommand).callsFake(() => new Promise((resolve) => setTimeout(() => resolve({ Messages: [] }), 1_000)));
    await vi.advanceTimersByTimeAsync(6_000);
    expect(lines.slice(3)).toEqual([
      { level: 40, operation: 'ReceiveMessage', kind: 'credentials', error: NO_CREDENTIALS, failures: 4, failingForS: 36, msg: `ReceiveMessage still failing (credentials) after 36 s: 4 more failures since the last line; last: ${NO_CREDENTIALS}` },
      { level: 30, operation: 'ReceiveMessage', failures: 16, failedForS: 62, msg: 'ReceiveMessage works again, after 16 failed calls in 62 s' },
    ]);
    expect((await get(port, '/healthz')).status).toBe(200);

    const stopped = worker.stop();
    await vi.advanceTimersByTimeAsync(2_000);
    await stopped;
    server.close();
    process.off('warning', onWarning);
  });

  it('turns unhealthy when puts have failed for longer than UNHEALTHY_AFTER_S, though receives work', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: 0 });
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const body = JSON.stringify(userEvent('wiki_page_created', { wiki_page_id: '1', title: 'Page 1' }));
    const messages: Message[] = [{ MessageId: 'm-1', ReceiptHandle: 'rh-1', Body: body, Attributes: { ApproximateReceiveCount: '1' } }];
    sqsMock.on(ReceiveMessageCommand).callsFake(() => new Promise((resolve) => setTimeout(() => resolve({ Messages: messages.splice(0) }), 1_000)));
    kinesisMock.on(PutRecordsCommand).rejects(refused());
    const { lines, logger } = captured();
    const worker = newWorker(logger, { UNHEALTHY_AFTER_S: '30' });
    const server = await startHealthServer(worker, 0, pino({ level: 'silent' }));
    const port = (server.address() as AddressInfo).port;
    worker.start();

    await vi.advanceTimersByTimeAsync(20_000);
    expect(lines[0]).toEqual({ level: 40, operation: 'PutRecords', kind: 'network', error: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4567', msg: 'PutRecords failed (network): ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4567' });
    expect(lines.filter((l) => l.msg === 'not published within the retry budget; left in SQS')).toHaveLength(1);
    expect((await get(port, '/healthz')).status).toBe(200);

    await vi.advanceTimersByTimeAsync(11_100); // the first put failed at 1.005 s
    expect(await get(port, '/healthz')).toEqual({
      status: 503,
      body: JSON.stringify({ healthy: false, reason: 'PutRecords has failed for 30 s (network: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4567)', lastPollAt: '1970-01-01T00:00:31.000Z' }),
    });

    const stopped = worker.stop();
    await vi.advanceTimersByTimeAsync(2_000);
    await stopped;
    server.close();
  });
});

describe('entries Kinesis refuses in a call that succeeded (issue 26, item 11)', () => {
  it('a throttled entry moves the throttled counter (and retries), another refusal its own kind; the call itself is not a failure', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const body = (id: string) => JSON.stringify(userEvent('wiki_page_created', { wiki_page_id: id, title: `Page ${id}` }));
    const messages: Message[] = ['1', '2'].map((id) => ({ MessageId: `m-${id}`, ReceiptHandle: `rh-${id}`, Body: body(id), Attributes: { ApproximateReceiveCount: '1' } }));
    sqsMock.on(ReceiveMessageCommand).callsFake(() => new Promise((resolve) => setTimeout(() => resolve({ Messages: messages.splice(0) }), 10)));
    sqsMock.on(DeleteMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] }));
    kinesisMock
      .on(PutRecordsCommand)
      .resolvesOnce({ FailedRecordCount: 2, Records: [{ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000001' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' }] })
      .resolves({ FailedRecordCount: 0, Records: [{ SequenceNumber: '1', ShardId: 's' }, { SequenceNumber: '2', ShardId: 's' }] });
    const { lines, logger } = captured();
    const worker = newWorker(logger, { POLLERS: '1' });
    worker.start();
    const deadline = Date.now() + 5_000;
    while (worker.counters.acknowledged < 2 && Date.now() < deadline) await sleep(20);
    await worker.stop();
    expect(worker.counters).toMatchObject({ published: 2, acknowledged: 2, retries: 2 });
    expect(worker.faults.counts).toEqual({ credentials: 0, network: 0, throttled: 1, other: 1 });
    expect(worker.faults.isFailing('PutRecords')).toBe(false);
    expect(lines.filter((l) => l.level === 40)).toEqual([]);
  });
});

describe('Faults', () => {
  it('classifies failed calls by the SDK error name or code', () => {
    const e = (name: string, extra: object = {}) => Object.assign(new Error('x'), { name, ...extra });
    const kinds = {
      CredentialsProviderError: e('CredentialsProviderError'),
      InvalidClientTokenId: e('InvalidClientTokenId'),
      ExpiredTokenException: e('ExpiredTokenException'),
      AccessDeniedException: e('AccessDeniedException'),
      'HTTP 403': e('UnknownError', { $metadata: { httpStatusCode: 403 } }),
      ECONNREFUSED: refused(),
      ENOTFOUND: e('Error', { code: 'ENOTFOUND' }),
      TimeoutError: e('TimeoutError'),
      AggregateError: Object.assign(new AggregateError([refused(), refused()], ''), { code: 'ECONNREFUSED' }),
      ThrottlingException: e('ThrottlingException'),
      ProvisionedThroughputExceededException: e('ProvisionedThroughputExceededException'),
      RequestThrottled: e('RequestThrottled'),
      QueueDoesNotExist: e('QueueDoesNotExist'),
      InternalError: e('InternalError', { $metadata: { httpStatusCode: 500 } }),
    };
    expect(Object.fromEntries(Object.entries(kinds).map(([k, err]) => [k, faultKind(err)]))).toEqual({
      CredentialsProviderError: 'credentials',
      InvalidClientTokenId: 'credentials',
      ExpiredTokenException: 'credentials',
      AccessDeniedException: 'credentials',
      'HTTP 403': 'credentials',
      ECONNREFUSED: 'network',
      ENOTFOUND: 'network',
      TimeoutError: 'network',
      AggregateError: 'network',
      ThrottlingException: 'throttled',
      ProvisionedThroughputExceededException: 'throttled',
      RequestThrottled: 'throttled',
      QueueDoesNotExist: 'other',
      InternalError: 'other',
    });
    expect(describeError(kinds.AggregateError)).toBe('AggregateError: connect ECONNREFUSED 127.0.0.1:4567');
    expect(describeError(refused())).toBe('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4567');
  });

  it('logs each operation and kind apart, doubles the interval up to its cap, and starts over after a success', () => {
    let now = 0;
    const { lines, logger } = captured();
    const faults = new Faults(logger, 1_000, 4_000, () => now);
    const at = (ms: number, fn: () => void) => {
      now = ms;
      fn();
    };
    for (let t = 0; t <= 12_000; t += 500) at(t, () => faults.failed('ReceiveMessage', refused()));
    at(12_000, () => faults.failed('PutRecords', noCredentials()));
    at(12_500, () => faults.failed('ReceiveMessage', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })));
    at(13_000, () => faults.succeeded('ReceiveMessage'));
    at(13_000, () => faults.succeeded('DeleteMessageBatch'));
    at(14_000, () => faults.failed('ReceiveMessage', refused()));
    expect(lines.map((l) => l.msg)).toEqual([
      'ReceiveMessage failed (network): ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4567',
      'ReceiveMessage still failing (network) after 1 s: 2 more failures since the last line; last: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4567',
      'ReceiveMessage still failing (network) after 3 s: 4 more failures since the last line; last: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4567',
      'ReceiveMessage still failing (network) after 7 s: 8 more failures since the last line; last: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4567',
      'ReceiveMessage still failing (network) after 11 s: 8 more failures since the last line; last: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4567',
      `PutRecords failed (credentials): ${NO_CREDENTIALS}`,
      'ReceiveMessage failed (throttled): ThrottlingException: Rate exceeded',
      'ReceiveMessage works again, after 26 failed calls in 13 s',
      'ReceiveMessage failed (network): ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4567',
    ]);
    expect(faults.counts).toEqual({ credentials: 1, network: 26, throttled: 1, other: 0 });
    expect(faults.failingLongerThan(500, ['ReceiveMessage', 'PutRecords'])).toMatchObject({ operation: 'PutRecords', since: 12_000, failures: 1, kind: 'credentials' });
    expect(faults.failingLongerThan(5_000, ['ReceiveMessage', 'PutRecords'])).toBeUndefined();
  });
});

describe('the health port and the health check', () => {
  it('a busy HEALTH_PORT: run says which port and what to set instead, exit 2 (issue 13)', async () => {
    const busy = http.createServer();
    await new Promise<void>((resolve) => busy.listen(0, resolve));
    const port = (busy.address() as AddressInfo).port;
    let stderr = '';
    const code = await runWorker({
      env: { SQS_QUEUE_URL: QUEUE, KINESIS_STREAM_NAME: 'caliper', AWS_REGION: 'us-east-1', HEALTH_PORT: String(port), LOG_LEVEL: 'silent' },
      stdout: () => {},
      stderr: (t) => (stderr += t),
    });
    busy.close();
    expect({ code, stderr }).toEqual({ code: 2, stderr: `canvas-caliper run: HEALTH_PORT ${port} is already in use by another process: set HEALTH_PORT to a free port (0 turns the health server off)\n` });
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  it('healthcheck says why it failed: connection refused, no answer in time, a HEALTH_PORT it cannot use (issue 14)', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await healthcheckCli(closedPort)).toEqual({ code: 1, stdout: '', stderr: `canvas-caliper healthcheck: connection refused on port ${closedPort}: no worker is listening there (is it running, with HEALTH_PORT=${closedPort}?)\n` });

    const silent = http.createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    expect(await healthcheckCli(silentPort)).toEqual({ code: 1, stdout: '', stderr: `canvas-caliper healthcheck: no answer on port ${silentPort} within 3 s\n` });
    silent.closeAllConnections();
    silent.close();

    expect(await healthcheckCli('0')).toEqual({ code: 1, stdout: '', stderr: "canvas-caliper healthcheck: HEALTH_PORT is '0': the worker serves /healthz only on a port from 1 to 65535\n" });
  });
});

describe('waiting on a signal', () => {
  it('unlessAborted: the outcome when it comes first, ABORTED when the signal does, and no listener left either way', async () => {
    const abort = new AbortController();
    expect(await unlessAborted(Promise.resolve(7), abort.signal)).toBe(7);
    await expect(unlessAborted(Promise.reject(new Error('no')), abort.signal)).rejects.toThrow('no');
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
    const open = unlessAborted(new Promise(() => {}), abort.signal);
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(1);
    abort.abort();
    expect(await open).toBe(ABORTED);
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
    expect(await unlessAborted(Promise.resolve(7), abort.signal)).toBe(ABORTED);
  });

  it('sleep: ends early on abort, and leaves no listener', async () => {
    const abort = new AbortController();
    await sleep(1, abort.signal);
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
    const long = sleep(60_000, abort.signal);
    abort.abort();
    await long;
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
  });
});
