// The worker on real-protocol local services (local-aws-sqs, kinesis-local), started by the test on
// free ports: nothing lost, poison parked with reasons, SIGKILL and SIGTERM survived.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { deterministicEventId } from '../src/engine.js';
import { distinctEvents } from '../src/samples.js';
import { createQueues, createStream, enqueue, LOCAL_REGION, queueDepth, readStream, type LocalServices } from '../src/worker/local.js';
import { Worker } from '../src/worker/worker.js';
import { drainQueue, exited, gate, localEnv, startCli, streamIds, until, localServicesForFile } from './local.js';

/** `n` distinct raw events, and the event id each must get. */
function events(n: number, tag: string): { bodies: string[]; ids: Set<string> } {
  const raws = distinctEvents(n, tag);
  return { bodies: raws.map((r) => JSON.stringify(r)), ids: new Set(raws.map((r) => deterministicEventId(r))) };
}

const POISON = ['{"metadata": {', '[1,2]', JSON.stringify({ metadata: { event_name: 'no_such_event', event_time: '2019-11-01T00:00:00Z' }, body: {} })];

let services: LocalServices;
localServicesForFile((s) => (services = s));

const streamIdsOf = (stream: string) => streamIds(services, stream);

function env(queueUrl: string, dlqUrl: string, stream: string): NodeJS.ProcessEnv {
  return localEnv(services, {
    SQS_QUEUE_URL: queueUrl,
    DLQ_URL: dlqUrl,
    KINESIS_STREAM_NAME: stream,
    HEALTH_PORT: '0',
    RECEIVE_WAIT_TIME_S: '1',
    VISIBILITY_TIMEOUT_S: '10',
    HEARTBEAT_INTERVAL_S: '2',
    RETRY_BUDGET_MS: '5000',
    SHUTDOWN_TIMEOUT_MS: '10000',
    LOG_LEVEL: 'warn',
  });
}

/** A queue with DLQ, a stream, `n` events enqueued, and the environment of a worker for them. */
async function scenario(name: string, n: number, maxReceiveCount?: number) {
  const { queueUrl, dlqUrl } = await createQueues(services.sqs, name, maxReceiveCount);
  await createStream(services.kinesis, name);
  const { bodies, ids } = events(n, name);
  await enqueue(services.sqs, queueUrl, bodies);
  return { queueUrl, ids, env: env(queueUrl, dlqUrl, name) };
}

const startWorker = (e: NodeJS.ProcessEnv): ChildProcess => startCli(['run'], e);

describe('worker on local SQS and Kinesis', () => {
  it('publishes thousands of events, every one by id; the queue ends empty; the DLQ holds exactly the poison, with reasons', async () => {
    const { queueUrl, dlqUrl } = await createQueues(services.sqs, 'it-volume');
    await createStream(services.kinesis, 'it-volume');
    const { bodies, ids } = events(3000, 'volume');
    await enqueue(services.sqs, queueUrl, [...bodies.slice(0, 1500), ...POISON, ...bodies.slice(1500)]);
    const config = loadConfig({ SQS_QUEUE_URL: queueUrl, DLQ_URL: dlqUrl, KINESIS_STREAM_NAME: 'it-volume', AWS_REGION: LOCAL_REGION, RECEIVE_WAIT_TIME_S: '1' });
    const worker = new Worker({ sqs: services.sqs, kinesis: services.kinesis, config, logger: pino({ level: 'silent' }) });
    worker.start();
    await until(async () => worker.counters.acknowledged === 3003, 120_000);
    await worker.stop();
    expect(await queueDepth(services.sqs, queueUrl)).toBe(0);
    const published = await streamIdsOf('it-volume');
    expect(new Set(published)).toEqual(ids);
    expect(published).toHaveLength(3000);
    const dlq = await drainQueue(services.sqs, dlqUrl);
    expect(dlq.map((m) => m.body).sort()).toEqual([...POISON].sort());
    expect(dlq.map((m) => m.attributes.error_code).sort()).toEqual(['INVALID_JSON', 'NOT_AN_OBJECT', 'UNKNOWN_EVENT']);
    expect(dlq.every((m) => m.attributes.error_message && m.attributes.original_message_id)).toBe(true);
  }, 180_000);

  it('killed with SIGKILL mid-run and restarted: nothing missing, duplicates carry the same id', async () => {
    const { queueUrl, ids, env: e } = await scenario('it-kill', 2000);
    const first = startWorker(e);
    await until(async () => (await readStream(services.kinesis, 'it-kill')).length >= 300, 60_000);
    first.kill('SIGKILL');
    await exited(first);
    const second = startWorker(e);
    await until(async () => (await queueDepth(services.sqs, queueUrl)) === 0, 120_000);
    second.kill('SIGTERM');
    expect(await exited(second)).toBe(0);
    const records = (await readStream(services.kinesis, 'it-kill')).map((r) => JSON.parse(r).data[0]);
    expect(new Set(records.map((r) => r.id))).toEqual(ids);
    // A duplicate is the same event: same id, same content (sendTime apart).
    const byId = new Map<string, string>();
    for (const r of records) {
      const content = JSON.stringify(r);
      expect(byId.get(r.id) ?? content).toBe(content);
      byId.set(r.id, content);
    }
  }, 180_000);

  it('SIGTERM under load: exits 0 within the shutdown timeout, and nothing is lost', async () => {
    const { queueUrl, ids, env: e } = await scenario('it-term', 2000);
    const worker = startWorker(e);
    await until(async () => (await readStream(services.kinesis, 'it-term')).length >= 200, 60_000);
    const signalled = Date.now();
    worker.kill('SIGTERM');
    expect(await exited(worker)).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    const again = startWorker(e);
    await until(async () => (await queueDepth(services.sqs, queueUrl)) === 0, 120_000);
    again.kill('SIGTERM');
    expect(await exited(again)).toBe(0);
    expect(new Set(await streamIdsOf('it-term'))).toEqual(ids);
  }, 180_000);

  it('a second signal exits at once, and what was in flight comes back', async () => {
    // Kinesis stops answering before the first signal, so the worker cannot finish stopping (it would wait
    // SHUTDOWN_TIMEOUT_MS for the puts in flight): the second signal always finds it stopping.
    // local-aws-sqs counts every ChangeMessageVisibility as a receive (real SQS does not), so the
    // heartbeats of messages held for seconds would reach the redrive policy's 5 and move them to the DLQ.
    const { queueUrl, ids, env: e } = await scenario('it-twice', 3000, 1000);
    const kinesis = await gate(services.kinesisEndpoint);
    const worker = startCli(['run'], { ...e, AWS_ENDPOINT_URL_KINESIS: kinesis.url, LOG_LEVEL: 'info' });
    try {
      const code = exited(worker);
      await until(async () => (await readStream(services.kinesis, 'it-twice')).length > 0, 60_000);
      kinesis.hold();
      await until(async () => kinesis.held() > 0, 10_000);
      worker.kill('SIGTERM');
      await until(async () => worker.out.stdout.includes('"msg":"stopping'), 10_000);
      expect(worker.exitCode).toBe(null);
      const signalled = Date.now();
      worker.kill('SIGTERM');
      expect(await code).toBe(130);
      expect(Date.now() - signalled).toBeLessThan(3_000);
      expect(worker.out.stdout).toContain('second signal: exiting now');
      const again = startWorker(e);
      await until(async () => (await queueDepth(services.sqs, queueUrl)) === 0, 120_000);
      again.kill('SIGTERM');
      expect(await exited(again)).toBe(0);
      expect(await queueDepth(services.sqs, e.DLQ_URL!)).toBe(0);
      expect(new Set(await streamIdsOf('it-twice'))).toEqual(ids);
    } finally {
      worker.kill('SIGKILL');
      await kinesis.close();
    }
  }, 180_000);
});

describe('the worker’s log (issue 26, items 12 and 16)', () => {
  it('SQS_QUEUE_URL on another host than AWS_ENDPOINT_URL_SQS: the SDK’s warning is one JSON line, once; nothing reaches stderr; ISO times; no EMF outside ECS; "stopped" is the last line', async () => {
    const { queueUrl, ids, env: e } = await scenario('it-logs', 30);
    // The same local SQS under another name: the SDK takes the queue URL's host, and warns on every call.
    const elsewhere = (url: string) => url.replace('//127.0.0.1:', '//localhost:');
    const worker = startCli(['run'], { ...e, SQS_QUEUE_URL: elsewhere(queueUrl), DLQ_URL: elsewhere(e.DLQ_URL!), LOG_LEVEL: 'info', STATS_INTERVAL_S: '1' });
    await until(async () => (await queueDepth(services.sqs, queueUrl)) === 0 && worker.out.stdout.includes('"msg":"stats"'), 60_000);
    worker.kill('SIGTERM');
    expect(await exited(worker)).toBe(0);
    expect(new Set(await streamIdsOf('it-logs'))).toEqual(ids);
    expect(worker.out.stderr).toBe('');
    const lines = worker.out.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const sdk = lines.filter((l) => l.source === 'aws-sdk');
    expect(sdk).toHaveLength(1);
    expect(sdk[0]).toMatchObject({ level: 40, msg: expect.stringMatching(/^QueueUrl=http:\/\/localhost:\d+\/\S+ differs from SQSClient resolved endpoint=http:\/\/127\.0\.0\.1:\d+\/, using QueueUrl host as endpoint\. Set/) });
    expect(lines.every((l) => typeof l.time === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(l.time))).toBe(true);
    const stats = lines.filter((l) => l.msg === 'stats');
    expect(stats.length).toBeGreaterThan(0);
    for (const l of stats) {
      expect(l._aws).toBeUndefined();
      expect(JSON.stringify(l).length).toBeLessThan(500);
    }
    const messages = lines.map((l) => String(l.msg));
    expect(messages.findIndex((m) => m.startsWith('stopping'))).toBeLessThan(messages.findIndex((m) => m.startsWith('stopped')));
    expect(messages.at(-1)).toMatch(/^stopped/);
  }, 90_000);
});

describe('npm start (run with no SQS_QUEUE_URL: embedded local services and the samples)', () => {
  it('publishes every one of the 82 sample event types, and the DLQ stays empty; the worker’s log goes to stderr, never into the summary', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info' };
    delete env.SQS_QUEUE_URL;
    const cli = startCli(['run'], env);
    expect(await exited(cli)).toBe(0);
    expect(cli.out.stdout).toContain('Canvas event types published: 82 of the 82 enqueued.');
    expect(cli.out.stdout).toContain('Dead-letter queue: 0 message(s).');
    expect(cli.out.stdout.split('\n').filter((line) => line.trimStart().startsWith('{'))).toEqual([]);
    // stderr is not a terminal here: the log is JSON lines there, with ISO times, "stopped" last.
    const log = cli.out.stderr.trimEnd().split('\n').map((line) => JSON.parse(line) as { msg: string; time: string; level: number });
    expect(log.map((l) => l.msg)).toContain('worker started');
    expect(log.at(-1)!.msg).toMatch(/^stopped; everything in flight was published/);
    expect(log.every((l) => /^\d{4}-.+Z$/.test(l.time))).toBe(true);
    // The summary counts the log's warnings (on Node 20: the AWS SDK's Node-version warning) and errors.
    const warnings = log.filter((l) => l.level === 40).length;
    if (warnings) expect(cli.out.stdout).toContain(`The worker logged ${warnings} warning(s) and 0 error(s) on stderr.`);
    else expect(cli.out.stdout).not.toContain('The worker logged');
  }, 60_000);
});
