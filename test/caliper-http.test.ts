// The HTTP sink (SINK=caliper-http, the Caliper Sensor API) against a real endpoint on loopback, with
// SQS mocked (aws-sdk-client-mock): what is deleted, retried, released and parked on each answer.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../src/config.js';
import { mapJson } from '../src/engine.js';
import { serializeEnvelope } from '../src/formats/index.js';
import { CaliperHttpSink, splitRecord } from '../src/worker/caliper-http.js';
import { recordFor } from '../src/worker/decode.js';
import { health, prometheus, startHealthServer, startStats } from '../src/worker/observe.js';
import { caliperHttpSink, configuredSink, PublishError, RefusedError } from '../src/worker/sink.js';
import { redact } from '../src/worker/redact.js';
import { staticToken } from '../src/worker/token.js';
import { Worker } from '../src/worker/worker.js';
import { queueOf as queueMessages, userEvent } from './helpers.js';
import { testEndpoint, type TestEndpoint } from './http-endpoint.js';

const TOKEN = 'tok-3f9a1c77e2b14d0d9b5e-SECRET';
const QUEUE = 'http://localhost:9324/000000000000/canvas';
const DLQ = 'http://localhost:9324/000000000000/canvas-dlq';
const sqsMock = mockClient(SQSClient);
const secretsMock = mockClient(SecretsManagerClient);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

const page = (id: string, title = `Page ${id}`) => JSON.stringify(userEvent('wiki_page_created', { wiki_page_id: id, title }));
const message = (id: string, body = page(id)): Message => ({ MessageId: `m-${id}`, ReceiptHandle: `rh-${id}`, Body: body, Attributes: { ApproximateReceiveCount: '1' } });
const eventId = (body: string) => mapJson(body).data[0].id;

const queueOf = (messages: Message[]) => queueMessages(sqsMock, messages);

const deleted = () => sqsMock.commandCalls(DeleteMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.ReceiptHandle));
const released = () => sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.ReceiptHandle));
const parked = () => sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input);

async function until(check: () => boolean, ms = 8_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await wait(10);
  }
}

function config(url: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    SQS_QUEUE_URL: QUEUE,
    DLQ_URL: DLQ,
    AWS_REGION: 'us-east-1',
    SINK: 'caliper-http',
    CALIPER_ENDPOINT_URL: url,
    CALIPER_ENDPOINT_TOKEN: TOKEN,
    HTTP_BATCH_LINGER_MS: '5',
    HTTP_TIMEOUT_MS: '400',
    RETRY_BUDGET_MS: '4000',
    POLLERS: '1',
    ...env,
  });
}

/** Every line the worker logs, to grep for the token. */
const logs: string[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });

let endpoint: TestEndpoint | undefined;
const workers: Worker[] = [];
async function startWorker(c: Config, messages: Message[]): Promise<Worker> {
  queueOf(messages);
  const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), sink: await configuredSink(c, {}), config: c, logger });
  workers.push(worker);
  worker.start();
  return worker;
}

beforeEach(() => {
  sqsMock.reset();
  secretsMock.reset();
  logs.length = 0;
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  sqsMock.on(DeleteMessageBatchCommand).callsFake(async (input) => ({ Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] }));
});
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  await endpoint?.close();
  endpoint = undefined;
  // The token never leaves: not in a log line, not in a DLQ message or its attributes.
  expect(logs.join('\n')).not.toContain(TOKEN);
  expect(JSON.stringify(parked())).not.toContain(TOKEN);
});

describe('SINK=caliper-http: the worker', () => {
  it('POSTs many events per envelope with the bearer token, and deletes each message only after a 2xx', async () => {
    let answered = 0;
    endpoint = await testEndpoint(() => (answered++, { status: 200 }));
    const messages = Array.from({ length: 25 }, (_, i) => message(String(i)));
    const worker = await startWorker(config(endpoint.url, { HTTP_BATCH_MAX_EVENTS: '10' }), messages);
    await until(() => worker.counters.acknowledged === 25);
    expect(endpoint.delivered.sort()).toEqual(messages.map((m) => eventId(m.Body!)).sort());
    const first = endpoint.requests[0]!;
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(first.headers.connection).toBe('keep-alive');
    expect(Math.max(...endpoint.requests.map((r) => r.envelope.data.length))).toBe(10);
    expect(endpoint.requests.length).toBeLessThanOrEqual(5);
    // Each event exactly as the mapper made it; the envelope's sensor and dataVersion its records'.
    const mapped = mapJson(messages[3]!.Body!);
    const sent = endpoint.requests.flatMap((r) => r.envelope.data).find((e) => e.id === mapped.data[0].id);
    expect(sent).toEqual(mapped.data[0]);
    expect(first.envelope.sensor).toBe(mapped.sensor);
    expect(first.envelope.dataVersion).toBe(mapped.dataVersion);
    expect(Date.parse(first.envelope.sendTime)).toBeGreaterThan(Date.now() - 60_000);
    expect(deleted()).toHaveLength(25);
    expect(parked()).toEqual([]);
    expect(answered).toBe(endpoint.requests.length);
    const metrics = prometheus(worker);
    expect(metrics).toContain(`canvas_caliper_http_requests_total{status="200"} ${endpoint.requests.length}`);
    expect(metrics).toMatch(/canvas_caliper_http_sent_bytes_total [1-9]\d*/);
    expect(metrics).not.toContain(TOKEN);
  });

  it('retries 500 and 429 (waiting at least its Retry-After), and loses nothing', async () => {
    const log: { at: number; ids: string[]; status: number }[] = [];
    endpoint = await testEndpoint((r, n) => {
      const status = n === 1 ? 500 : log.some((l) => l.status === 429) ? 202 : 429;
      log.push({ at: Date.now(), ids: r.envelope.data.map((e) => e.id), status });
      return status === 429 ? { status, headers: { 'retry-after': '1' } } : { status };
    });
    const messages = Array.from({ length: 5 }, (_, i) => message(String(i)));
    const worker = await startWorker(config(endpoint.url), messages);
    await until(() => worker.counters.acknowledged === 5);
    expect(endpoint.requests.length).toBeGreaterThanOrEqual(3);
    const throttled = log.find((l) => l.status === 429)!;
    const after = log.filter((l) => l.at > throttled.at && l.ids.some((id) => throttled.ids.includes(id)));
    expect(after.length).toBeGreaterThan(0);
    for (const l of after) expect(l.at - throttled.at).toBeGreaterThanOrEqual(950);
    expect(new Set(endpoint.delivered)).toEqual(new Set(messages.map((m) => eventId(m.Body!))));
    expect(worker.counters.retries).toBeGreaterThanOrEqual(5 + throttled.ids.length);
    expect(parked()).toEqual([]);
    expect(prometheus(worker)).toContain('canvas_caliper_http_requests_total{status="429"} 1');
  });

  it('finds the one event a 400 refuses inside a batch of 100: it alone goes to the DLQ with the reason, the 99 are delivered once', async () => {
    endpoint = await testEndpoint((r) =>
      r.envelope.data.some((e) => e.object.name === 'Page BAD')
        ? // An endpoint that echoes the credentials it was sent: the reason must not carry them.
          { status: 400, body: JSON.stringify({ error: 'object.name BAD is refused', got: r.headers.authorization }) }
        : { status: 200 },
    );
    const messages = Array.from({ length: 100 }, (_, i) => (i === 42 ? message('42', page('42', 'Page BAD')) : message(String(i))));
    const worker = await startWorker(config(endpoint.url, { HTTP_BATCH_LINGER_MS: '200' }), messages);
    await until(() => worker.counters.acknowledged === 100);
    const good = messages.filter((m) => m.MessageId !== 'm-42').map((m) => eventId(m.Body!));
    expect(endpoint.delivered.sort()).toEqual(good.sort()); // each exactly once
    expect(endpoint.requests[0]!.envelope.data).toHaveLength(100);
    // A binary split: about 2·log2(100) requests, not 100.
    expect(endpoint.requests.length).toBeLessThanOrEqual(16);
    const [dlq, ...more] = parked();
    expect(more).toEqual([]);
    expect(dlq!.MessageBody).toBe(messages[42]!.Body);
    expect(dlq!.MessageAttributes!.error_code!.StringValue).toBe('REFUSED_BY_ENDPOINT');
    const reason = dlq!.MessageAttributes!.error_message!.StringValue!;
    expect(reason).toContain('HTTP 400');
    expect(reason).toContain('object.name BAD is refused');
    expect(reason).toContain('Bearer [redacted]');
    expect(worker.counters).toMatchObject({ published: 99, sentToDlq: 1, acknowledged: 100 });
    expect(prometheus(worker)).toContain('canvas_caliper_http_refused_events_total 1');
  });

  it('on 401 reads the token again once, then stops consuming: health 503, messages released, nothing in the DLQ', async () => {
    endpoint = await testEndpoint(() => ({ status: 401, body: 'bad token' }));
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:caliper-token-AbCdEf';
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: TOKEN }) });
    const c = config(endpoint.url, { CALIPER_ENDPOINT_TOKEN: '', CALIPER_ENDPOINT_TOKEN_SECRET_ARN: arn });
    const messages = Array.from({ length: 3 }, (_, i) => message(String(i)));
    queueOf(messages);
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), sink: await configuredSink(c, { secrets: new SecretsManagerClient({ region: 'us-east-1' }) }), config: c, logger });
    workers.push(worker);
    worker.start();
    await until(() => worker.counters.released === 3);
    expect(endpoint.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(2); // at start, and once on the 401
    expect(worker.blocked).toMatch(/refused our credentials \(HTTP 401\)/);
    expect(health(worker)).toEqual({ healthy: false, reason: expect.stringContaining('not consuming') });
    const server = await startHealthServer(worker, 0, logger);
    const healthz = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/healthz`);
    expect(healthz.status).toBe(503);
    expect(await healthz.text()).not.toContain(TOKEN);
    server.close();
    expect(released().sort()).toEqual(['rh-0', 'rh-1', 'rh-2']);
    expect(parked()).toEqual([]);
    expect(deleted()).toEqual([]);
    // It receives nothing more while blocked.
    const receives = sqsMock.commandCalls(ReceiveMessageCommand).length;
    await wait(300);
    expect(sqsMock.commandCalls(ReceiveMessageCommand).length).toBe(receives);
    expect(prometheus(worker)).toContain('canvas_caliper_http_blocked 1');
  });

  it('after a 401, a rotated secret is read and the envelope delivered', async () => {
    const rotated = 'tok-rotated-71c0d9e4aa';
    endpoint = await testEndpoint((r) => (r.headers.authorization === `Bearer ${rotated}` ? { status: 200 } : { status: 401 }));
    secretsMock.on(GetSecretValueCommand).resolvesOnce({ SecretString: TOKEN }).resolves({ SecretString: rotated });
    const c = config(endpoint.url, { CALIPER_ENDPOINT_TOKEN: '', CALIPER_ENDPOINT_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:t' });
    queueOf([message('1')]);
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), sink: await configuredSink(c, { secrets: new SecretsManagerClient({ region: 'us-east-1' }) }), config: c, logger });
    workers.push(worker);
    worker.start();
    await until(() => worker.counters.acknowledged === 1);
    expect(worker.blocked).toBeUndefined();
    expect(logs.join('\n')).not.toContain(rotated);
  });

  it('a slow endpoint (requests time out) loses nothing', async () => {
    endpoint = await testEndpoint((_, n) => (n <= 2 ? 'hang' : { status: 200 }));
    const messages = Array.from({ length: 4 }, (_, i) => message(String(i)));
    const worker = await startWorker(config(endpoint.url, { HTTP_TIMEOUT_MS: '200' }), messages);
    await until(() => worker.counters.acknowledged === 4);
    expect(new Set(endpoint.delivered)).toEqual(new Set(messages.map((m) => eventId(m.Body!))));
    expect(prometheus(worker)).toMatch(/canvas_caliper_http_requests_total\{status="timeout"\} [12]/);
  });

  it('stops within SHUTDOWN_TIMEOUT_MS while a request hangs, making its message visible again, and then leaves it alone', async () => {
    endpoint = await testEndpoint(() => 'hang');
    const worker = await startWorker(config(endpoint.url, { HTTP_TIMEOUT_MS: '1500', RETRY_BUDGET_MS: '1600', SHUTDOWN_TIMEOUT_MS: '1000' }), [message('1')]);
    await until(() => endpoint!.requests.length === 1);
    const started = Date.now();
    expect(await worker.stop()).toEqual({ unfinished: 1 });
    expect(Date.now() - started).toBeLessThan(1_500);
    // The request times out after the stop: the message, given back, is not released again (with a
    // back-off, over a receipt another worker may hold by then), parked or deleted.
    await wait(2_000);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input.Entries!.map((e) => [e.ReceiptHandle, e.VisibilityTimeout]))).toEqual([[['rh-1', 0]]]);
    expect(deleted()).toEqual([]);
    expect(parked()).toEqual([]);
  });

  it('leaves messages in SQS when the endpoint keeps failing past the retry budget; a redirect is not followed', async () => {
    const elsewhere = await testEndpoint(() => ({ status: 200 }));
    endpoint = await testEndpoint(() => ({ status: 307, headers: { location: `${elsewhere.url}?token=${TOKEN}` } }));
    const worker = await startWorker(config(endpoint.url, { RETRY_BUDGET_MS: '600', HTTP_TIMEOUT_MS: '300' }), [message('1')]);
    await until(() => worker.counters.released === 1);
    expect(elsewhere.requests).toEqual([]);
    expect(released()).toEqual(['rh-1']);
    expect(parked()).toEqual([]);
    expect(logs.join('\n')).toContain('redirect to http://127.0.0.1');
    await elsewhere.close();
  });

  it('puts the HTTP figures in the stats line (EMF) with the Endpoint dimension', async () => {
    endpoint = await testEndpoint(() => ({ status: 200 }));
    const c = config(endpoint.url);
    queueOf([message('1')]);
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), sink: await configuredSink(c, {}), config: c, logger });
    workers.push(worker);
    const stop = startStats(worker, logger, 3600, 'http://127.0.0.1/caliper', 'Endpoint');
    worker.start();
    await until(() => worker.counters.acknowledged === 1);
    stop();
    const line = JSON.parse(logs.find((l) => l.includes('"stats"'))!);
    expect(line.Endpoint).toBe('http://127.0.0.1/caliper');
    expect(line._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Endpoint']]);
    expect(line).toMatchObject({ Published: 1, Http2xx: 1, HttpRequests: 1, RefusedByEndpoint: 0, SinkBlocked: 0 });
    expect(line.HttpBytes).toBeGreaterThan(100);
  });
});

describe('CaliperHttpSink', () => {
  it('keeps caliper-1.2 decimals with a fraction and groups records by sensor and dataVersion', async () => {
    endpoint = await testEndpoint(() => ({ status: 200 }));
    const c = config(endpoint.url, { CALIPER_FORMAT: 'caliper-1.2' });
    const sink = caliperHttpSink(c, staticToken(TOKEN))({});
    const graded = JSON.stringify(userEvent('grade_change', { submission_id: '1', assignment_id: '2', grade: '9', old_grade: null, score: 9, old_score: null, points_possible: 10, student_id: '3', user_id: '3', grading_complete: true, muted: false }));
    const opts = { format: 'caliper-1.2' as const };
    const r1 = recordFor(graded, opts).record;
    const r2 = recordFor(page('5'), opts).record;
    const other = Buffer.from(serializeEnvelope({ ...JSON.parse(recordFor(page('6'), {}).record.toString()) }));
    await Promise.all([sink.put(r1, 'k', Date.now() + 2000), sink.put(r2, 'k', Date.now() + 2000), sink.put(other, 'k', Date.now() + 2000)]);
    expect(endpoint.requests).toHaveLength(2);
    const v12 = endpoint.requests.find((r) => r.envelope.data.length === 2)!;
    expect(v12.body).toMatch(/"maxScore":10\.0/);
    expect(v12.envelope.dataVersion).toBe('http://purl.imsglobal.org/ctx/caliper/v1p2');
    await sink.close?.();
  });

  it('splits a record on its text, and a passed-through envelope with other key orders by parsing it', () => {
    const record = recordFor(page('1'), {}).record;
    const envelope = JSON.parse(record.toString());
    const { group, events } = splitRecord(record);
    expect(JSON.parse(`{${group}}`)).toEqual({ sensor: envelope.sensor, dataVersion: envelope.dataVersion });
    expect(events.toString()).toBe(JSON.stringify(envelope.data[0]));
    const reordered = JSON.stringify({ data: envelope.data, dataVersion: envelope.dataVersion, sendTime: envelope.sendTime, sensor: envelope.sensor });
    // decode.ts moves data last, so the textual split applies again:
    const decoded = recordFor(reordered, {}).record;
    expect(splitRecord(decoded)).toEqual({ group, events });
    // given data first anyway, it is parsed:
    expect(JSON.parse(`[${splitRecord(Buffer.from(reordered)).events}]`)).toEqual(envelope.data);
    // a sensor with characters beyond ASCII: the split is by bytes
    const wide = Buffer.from(JSON.stringify({ ...envelope, sensor: 'https://école.example/' }));
    expect(JSON.parse(splitRecord(wide).events.toString())).toEqual(envelope.data[0]);
  });

  it('rejects with a PublishError at the deadline, and a RefusedError for a lone refused record', async () => {
    endpoint = await testEndpoint((r) => (r.envelope.data[0]!.object.name === 'Page 2' ? { status: 422, body: 'no' } : { status: 503 }));
    const sink = new CaliperHttpSink({ url: endpoint.url, token: staticToken(TOKEN), timeoutMs: 200, maxEvents: 1, maxBytes: 1 << 20, lingerMs: 1, maxInFlight: 2 });
    const [failing, refused] = await Promise.allSettled([sink.put(recordFor(page('1'), {}).record, 'k', Date.now() + 300), sink.put(recordFor(page('2'), {}).record, 'k', Date.now() + 300)]);
    expect(failing.status === 'rejected' && failing.reason).toBeInstanceOf(PublishError);
    expect(refused.status === 'rejected' && refused.reason).toBeInstanceOf(RefusedError);
    expect(refused).toMatchObject({ reason: { code: 'REFUSED_BY_ENDPOINT', status: 422, message: 'the Caliper endpoint refused this event: HTTP 422: no' } });
    await sink.close();
  });

  it('a 403 for one envelope while others are accepted still blocks after one refresh, with no endless refreshing', async () => {
    endpoint = await testEndpoint((r) => (r.envelope.data[0]!.object.name === 'Page X' ? { status: 403 } : { status: 200 }));
    let refreshes = 0;
    const token = { ...staticToken(TOKEN), invalidate: () => void refreshes++ };
    const sink = new CaliperHttpSink({ url: endpoint.url, token, timeoutMs: 500, maxEvents: 1, maxBytes: 1 << 20, lingerMs: 1, maxInFlight: 4 });
    const puts = [page('1'), page('2', 'Page X'), page('3'), page('4')].map((b) => sink.put(recordFor(b, {}).record, 'k', Date.now() + 3000));
    const outcomes = await Promise.allSettled(puts);
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: expect.any(PublishError) });
    expect(sink.blocked).toMatch(/HTTP 403/);
    expect(refreshes).toBe(1);
    expect(endpoint.requests.filter((r) => r.envelope.data[0]!.object.name === 'Page X').length).toBeLessThanOrEqual(3);
    await sink.close();
  });

  it('sends CALIPER_ENDPOINT_HEADERS, and keeps their values out of a refusal\'s reason', async () => {
    endpoint = await testEndpoint((r) => ({ status: 400, body: `bad key ${String(r.headers['x-api-key'])}` }));
    const c = config(endpoint.url, { CALIPER_ENDPOINT_HEADERS: '{"X-Api-Key": "key-7c2e90ab"}' });
    const sink = caliperHttpSink(c, staticToken(TOKEN))({});
    const [out] = await Promise.allSettled([sink.put(recordFor(page('1'), {}).record, 'k', Date.now() + 2000)]);
    expect(endpoint.requests[0]!.headers['x-api-key']).toBe('key-7c2e90ab');
    expect(out).toMatchObject({ status: 'rejected', reason: { message: 'the Caliper endpoint refused this event: HTTP 400: bad key [redacted]' } });
    await sink.close?.();
  });

  it('verifies TLS certificates, even with NODE_TLS_REJECT_UNAUTHORIZED=0: a self-signed endpoint is never sent to', async () => {
    const fixtures = path.join(import.meta.dirname, 'fixtures/tls');
    let answered = 0;
    const server = https.createServer({ key: fs.readFileSync(path.join(fixtures, 'self-signed.key')), cert: fs.readFileSync(path.join(fixtures, 'self-signed.crt')) }, (req, res) => {
      answered++;
      req.resume().on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const sink = new CaliperHttpSink({ url: `https://127.0.0.1:${(server.address() as { port: number }).port}/caliper`, token: staticToken(TOKEN), timeoutMs: 500, maxEvents: 1, maxBytes: 1 << 20, lingerMs: 1, maxInFlight: 1 });
      const [out] = await Promise.allSettled([sink.put(recordFor(page('1'), {}).record, 'k', Date.now() + 400)]);
      expect(out).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/self-signed certificate/) } });
      expect(answered).toBe(0);
      await sink.close();
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
      server.close();
    }
  });

  it('redact takes the token, header values and any bearer credential out', () => {
    expect(redact(`a ${TOKEN} b key-123456 Bearer abc.def`, [TOKEN, 'key-123456'])).toBe('a [redacted] b [redacted] Bearer [redacted]');
  });
});

describe('SINK=caliper-http: configuration', () => {
  const ONE_TOKEN = 'one of CALIPER_ENDPOINT_TOKEN, CALIPER_ENDPOINT_TOKEN_SECRET_ARN or CALIPER_ENDPOINT_TOKEN_URL (OAuth 2.0 client credentials) is required with SINK=caliper-http';
  const base = { SQS_QUEUE_URL: QUEUE, AWS_REGION: 'us-east-1', SINK: 'caliper-http' };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ ...base, ...env });
    } catch (err) {
      return (err as ConfigError).problems;
    }
    return [];
  };

  it('needs an endpoint and one source of token, but no Kinesis stream; names every problem at once', () => {
    expect(problems({})).toEqual(['CALIPER_ENDPOINT_URL is required with SINK=caliper-http', ONE_TOKEN]);
    expect(problems({ CALIPER_ENDPOINT_URL: 'https://lrs.example.edu/caliper', CALIPER_ENDPOINT_TOKEN: 't' })).toEqual([]);
    expect(
      problems({
        CALIPER_ENDPOINT_URL: 'http://lrs.example.edu/caliper',
        CALIPER_ENDPOINT_TOKEN: TOKEN,
        CALIPER_ENDPOINT_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x',
        CALIPER_ENDPOINT_HEADERS: '{"Authorization": "x"}',
        HTTP_TIMEOUT_MS: '90000',
        HTTP_MAX_IN_FLIGHT: '0',
      }),
    ).toEqual([
      'CALIPER_ENDPOINT_HEADERS: the sink sets Authorization itself',
      'HTTP_MAX_IN_FLIGHT must be at least 1',
      'CALIPER_ENDPOINT_URL must be https (http only to a loopback address, or with CALIPER_ENDPOINT_ALLOW_HTTP=true)',
      ONE_TOKEN,
      'HTTP_TIMEOUT_MS (90000) must be below RETRY_BUDGET_MS (60000)',
    ]);
  });

  it('allows http to loopback or with the opt-in, refuses credentials in the URL, and never echoes the token', () => {
    const ok = { CALIPER_ENDPOINT_TOKEN: 't' };
    expect(problems({ ...ok, CALIPER_ENDPOINT_URL: 'http://127.0.0.1:8080/caliper' })).toEqual([]);
    expect(problems({ ...ok, CALIPER_ENDPOINT_URL: 'http://lrs.internal/caliper', CALIPER_ENDPOINT_ALLOW_HTTP: 'true' })).toEqual([]);
    expect(problems({ ...ok, CALIPER_ENDPOINT_URL: 'https://me:pw@lrs.example.edu/' })).toEqual(['CALIPER_ENDPOINT_URL must not hold credentials (user:password@): use CALIPER_ENDPOINT_TOKEN']);
    const bad = problems({ CALIPER_ENDPOINT_URL: 'https://lrs.example.edu/', CALIPER_ENDPOINT_TOKEN: `${TOKEN} x`, CALIPER_ENDPOINT_HEADERS: `{"X-Key": ${JSON.stringify(TOKEN)}` });
    expect(bad).toHaveLength(2);
    expect(bad.join('\n')).not.toContain(TOKEN);
    expect(loadConfig({ ...base, ...ok, CALIPER_ENDPOINT_URL: 'https://lrs.example.edu/', CALIPER_ENDPOINT_HEADERS: '{"X-Api-Key": "k1"}' }).CALIPER_ENDPOINT_HEADERS).toEqual({ 'X-Api-Key': 'k1' });
  });

  it('run stops with exit 2 when the token\'s secret cannot be read, naming the secret', async () => {
    const { runWorker } = await import('../src/worker/run.js');
    const { freePort } = await import('../src/worker/local.js');
    let stderr = '';
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:caliper-token-AbCdEf';
    const code = await runWorker({
      env: {
        ...base,
        NODE_ENV: 'production',
        CALIPER_ENDPOINT_URL: 'https://lrs.example.edu/caliper',
        CALIPER_ENDPOINT_TOKEN_SECRET_ARN: arn,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${await freePort()}`,
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'x',
        AWS_MAX_ATTEMPTS: '1',
        HEALTH_PORT: '0',
      },
      stdout: () => {},
      stderr: (t) => void (stderr += t),
    });
    expect(code).toBe(2);
    expect(stderr).toContain(`canvas-caliper run: cannot read the Caliper endpoint's token from CALIPER_ENDPOINT_TOKEN_SECRET_ARN (${arn})`);
  });

  it('run warns that SINK=caliper-http is missing when CALIPER_ENDPOINT_URL is set and a stream is configured', async () => {
    const { runWorker } = await import('../src/worker/run.js');
    const http = await import('node:http');
    // The health port is taken: run stops right after its configuration, with the warning said first.
    const taken = http.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    let stderr = '';
    const code = await runWorker({
      env: { SQS_QUEUE_URL: QUEUE, AWS_REGION: 'us-east-1', NODE_ENV: 'production', KINESIS_STREAM_NAME: 's', CALIPER_ENDPOINT_URL: 'https://lrs.example.edu/caliper', HEALTH_PORT: String((taken.address() as { port: number }).port) },
      stdout: () => {},
      stderr: (t) => void (stderr += t),
    });
    taken.close();
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe('canvas-caliper run: CALIPER_ENDPOINT_URL is set but SINK is kinesis: it is not used (set SINK=caliper-http to publish to it)');
  });

  it('keeps SINK=kinesis the default, with its stream required', () => {
    expect(problems({ SINK: '' })).toEqual(['KINESIS_STREAM_NAME or KINESIS_STREAM_ARN is required']);
    expect(problems({ SINK: 'http' })).toEqual(['SINK must be kinesis or caliper-http']);
  });
});

describe('map --post URL', () => {
  async function map(argv: string[], stdin: string, env: NodeJS.ProcessEnv) {
    const { main } = await import('../src/cli.js');
    let stdout = '';
    let stderr = '';
    const code = await main(['map', ...argv], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stdin: () => [stdin], env });
    return { code, stdout, stderr };
  }

  it('sends the mapped envelopes to the endpoint with the token from the environment; a refused event is reported, exit 1', async () => {
    endpoint = await testEndpoint((r) => (r.envelope.data.some((e) => e.object.name === 'Page BAD') ? { status: 400, body: `refused; you sent ${r.headers.authorization}` } : { status: 200 }));
    const input = [page('1'), page('2'), page('3', 'Page BAD')].join('\n');
    const out = await map(['--post', endpoint.url], input, { CALIPER_ENDPOINT_TOKEN: TOKEN });
    expect(out.stdout).toBe('');
    expect(endpoint.delivered.sort()).toEqual([eventId(page('1')), eventId(page('2'))].sort());
    expect(endpoint.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const [refusal, summary] = out.stderr.trim().split('\n');
    expect(JSON.parse(refusal!)).toMatchObject({ input: 'stdin', line: 3, event_name: 'wiki_page_created', error_code: 'REFUSED_BY_ENDPOINT', error: expect.stringContaining('HTTP 400: refused; you sent Bearer [redacted]') });
    expect(summary).toBe(`posted 2 events to ${endpoint.url}`);
    expect(out.stderr).not.toContain(TOKEN);
    expect(out.code).toBe(1);
    expect((await map(['--post', endpoint.url], page('4'), { CALIPER_ENDPOINT_TOKEN: TOKEN })).code).toBe(0);
  });

  it('ends against an endpoint that trickles its answer: each request ends at HTTP_TIMEOUT_MS, the event at the retry budget (exit 1)', async () => {
    endpoint = await testEndpoint(() => ({ status: 500, body: 'x'.repeat(1000), trickleMs: 100 }));
    const started = Date.now();
    const out = await map(['--post', endpoint.url], page('1'), { CALIPER_ENDPOINT_TOKEN: TOKEN, HTTP_TIMEOUT_MS: '300', RETRY_BUDGET_MS: '1000' });
    expect(out.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(JSON.parse(out.stderr.split('\n')[0]!)).toMatchObject({ error_code: 'NOT_DELIVERED', error: expect.stringContaining('no complete answer within') });
  });

  it('takes OAuth 2.0 client credentials from the environment, as the worker does', async () => {
    const { testTokenEndpoint } = await import('./http-endpoint.js');
    const issuer = await testTokenEndpoint({ clientId: 'map-client', clientSecret: 'map-secret-5e4d3c2b1a' });
    endpoint = await testEndpoint((r) => (issuer.valid(r.headers.authorization) ? { status: 202 } : { status: 401 }));
    const out = await map(['--post', endpoint.url], [page('1'), page('2')].join('\n'), { CALIPER_ENDPOINT_TOKEN_URL: issuer.url, CALIPER_ENDPOINT_CLIENT_ID: 'map-client', CALIPER_ENDPOINT_CLIENT_SECRET: 'map-secret-5e4d3c2b1a' });
    expect(out).toMatchObject({ code: 0, stderr: `posted 2 events to ${endpoint.url}\nmapped 2 · refused 0 · skipped 0\n` });
    expect(issuer.requests).toHaveLength(1);
    const wrong = await map(['--post', endpoint.url], page('3'), { CALIPER_ENDPOINT_TOKEN_URL: issuer.url, CALIPER_ENDPOINT_CLIENT_ID: 'map-client', CALIPER_ENDPOINT_CLIENT_SECRET: 'not-the-secret-0000' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('refused our client credentials (HTTP 401 invalid_client)');
    expect(wrong.stderr).not.toContain('not-the-secret-0000');
    await issuer.close();
  });

  it('names the flag, not the worker variable, and says a text that is no URL in one line', async () => {
    const out = await map(['--post', 'notaurl'], page('1'), { CALIPER_ENDPOINT_TOKEN: TOKEN });
    expect(out.code).toBe(2);
    expect(out.stderr.split('\n')[0]).toBe('canvas-caliper: --post: its URL must be a URL (https://lrs.example.edu/caliper)');
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a missing token or a plain-http remote URL as a usage error (exit 2)', async () => {
    const noToken = await map(['--post', 'https://lrs.example.edu/caliper'], page('1'), {});
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('--post: one of CALIPER_ENDPOINT_TOKEN, CALIPER_ENDPOINT_TOKEN_SECRET_ARN or CALIPER_ENDPOINT_TOKEN_URL (OAuth 2.0 client credentials) is required with --post\n');
    const plain = await map(['--post', 'http://lrs.example.edu/caliper'], page('1'), { CALIPER_ENDPOINT_TOKEN: TOKEN });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('--post: its URL must be https');
    expect(plain.stderr).not.toContain('CALIPER_ENDPOINT_URL');
  });
});
