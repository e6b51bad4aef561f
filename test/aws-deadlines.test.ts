// Every AWS call has a deadline inside the retry budget (issue 26, item 11): a relay in front of
// local-aws-sqs / kinesis-local that never answers one call in N costs the worker (and serve) a
// deadline, not the socket's 60 s; the stalls are logged and counted, with what the SDK retried; an
// endpoint that never answers at all turns /healthz unhealthy.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startServe } from '../src/ingest/command.js';
import { loadServeConfig } from '../src/ingest/config.js';
import { post, startLocalSigner } from '../src/ingest/local.js';
import { deterministicEventId } from '../src/engine.js';
import { distinctEvents } from '../src/samples.js';
import { createClients } from '../src/worker/clients.js';
import { createQueues, createStream, enqueue, LOCAL_CREDENTIALS, LOCAL_REGION, queueDepth, type LocalServices } from '../src/worker/local.js';
import { health, prometheus } from '../src/worker/observe.js';
import { Worker } from '../src/worker/worker.js';
import { gate, localServicesForFile, streamIds, until, type Gate } from './local.js';

let services: LocalServices;
localServicesForFile((s) => (services = s));

/** A logger whose lines are kept. */
function captured() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: pino({ level: 'info', base: undefined }, { write: (line: string) => lines.push(JSON.parse(line)) }) };
}

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/**
 * A queue with `n` events and a stream, and a worker whose SQS or Kinesis calls go through a relay
 * (`through`), each attempt's deadline `callTimeoutMs`.
 */
async function workerBehind(name: string, n: number, through: 'sqs' | 'kinesis', env: Record<string, string> = {}) {
  const { queueUrl, dlqUrl } = await createQueues(services.sqs, name);
  await createStream(services.kinesis, name);
  const raws = distinctEvents(n, name);
  await enqueue(services.sqs, queueUrl, raws.map((r) => JSON.stringify(r)));
  const relay: Gate = await gate(through === 'sqs' ? services.sqsEndpoint : services.kinesisEndpoint);
  const clients = createClients({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    sqsEndpoint: through === 'sqs' ? relay.url : services.sqsEndpoint,
    kinesisEndpoint: through === 'kinesis' ? relay.url : services.kinesisEndpoint,
    callTimeoutMs: 1500,
  });
  const config = loadConfig({ SQS_QUEUE_URL: queueUrl, DLQ_URL: dlqUrl, KINESIS_STREAM_NAME: name, AWS_REGION: LOCAL_REGION, RECEIVE_WAIT_TIME_S: '1', BATCH_LINGER_MS: '10', RETRY_BUDGET_MS: '20000', POLLERS: '2', SHUTDOWN_TIMEOUT_MS: '2000', ...env });
  const { lines, logger } = captured();
  const worker = new Worker({ sqs: clients.sqs, kinesis: clients.kinesis, config, logger, awsCalls: clients.calls });
  cleanup.push(
    () => relay.close(),
    () => {
      clients.sqs.destroy();
      clients.kinesis.destroy();
    },
    () => worker.stop(),
  );
  return { worker, relay, lines, queueUrl, ids: new Set(raws.map((r) => deterministicEventId(r))) };
}

describe('AWS calls that never answer (a relay holding one call in N)', () => {
  it('Kinesis: one PutRecords in four unanswered costs 1.5 s per stall, every event is published, the stalls are logged once and counted', async () => {
    const { worker, relay, lines, queueUrl, ids } = await workerBehind('dl-kinesis', 300, 'kinesis', { BATCH_MAX_RECORDS: '20' });
    relay.holdEvery(4, ['PutRecords']);
    const started = Date.now();
    worker.start();
    await until(async () => worker.counters.acknowledged === 300, 20_000);
    // 15+ calls, a quarter held: with the socket's 60 s instead of a deadline this takes minutes.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(relay.heldSoFar()).toBeGreaterThan(0);
    expect(new Set(await streamIds(services, 'dl-kinesis'))).toEqual(ids);
    expect(await queueDepth(services.sqs, queueUrl)).toBe(0);

    const put = worker.awsCalls.byOperation.get('PutRecords')!;
    expect(put.timeouts).toBeGreaterThanOrEqual(3);
    // Each cut attempt was retried by the SDK (the retry succeeded: no call failed for the worker).
    expect(put.retries).toBeGreaterThanOrEqual(put.timeouts);
    expect(worker.faults.counts).toEqual({ credentials: 0, network: 0, throttled: 0, other: 0 });
    const stalls = lines.filter((l) => l.operation === 'PutRecords' && l.kind === 'timeout');
    expect(stalls[0]).toMatchObject({ level: 40, msg: 'PutRecords stalled (timeout): no answer within 1500 ms; the attempt was cut and the AWS SDK retries it' });
    // Repeats are summarised (5 s, then a doubling interval), not one line per stall.
    expect(stalls.length).toBeLessThan(put.timeouts);
    const metrics = prometheus(worker);
    expect(metrics).toContain(`canvas_caliper_aws_timeouts_total{operation="PutRecords"} ${put.timeouts}\n`);
    expect(metrics).toContain(`canvas_caliper_aws_retries_total{operation="PutRecords"} ${put.retries}\n`);
    expect(metrics).toMatch(/canvas_caliper_aws_retry_delay_milliseconds_total\{operation="PutRecords"\} [1-9]\d*\n/);
    expect(health(worker)).toEqual({ healthy: true });
  }, 30_000);

  it('SQS: one call in five unanswered (receives, deletes, visibility) — every event is published and acknowledged, each stall counted', async () => {
    const { worker, relay, queueUrl, ids } = await workerBehind('dl-sqs', 120, 'sqs');
    relay.holdEvery(5);
    const started = Date.now();
    worker.start();
    await until(async () => worker.counters.acknowledged === 120, 20_000);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(new Set(await streamIds(services, 'dl-sqs'))).toEqual(ids);
    await until(async () => (await queueDepth(services.sqs, queueUrl)) === 0, 5_000);
    const timeouts = () => [...worker.awsCalls.byOperation.values()].reduce((sum, c) => sum + c.timeouts, 0);
    // Every held call is cut at its deadline (calls held just now are still waiting for theirs).
    expect(relay.heldSoFar()).toBeGreaterThan(0);
    await until(async () => timeouts() >= relay.heldSoFar(), 5_000);
    // A held long poll is cut at its wait (1 s) plus the deadline, not at the socket's 60 s (the pollers go on polling the empty queue).
    await until(async () => (worker.awsCalls.byOperation.get('ReceiveMessage')?.timeouts ?? 0) > 0, 15_000);
  }, 30_000);

  it('Kinesis answering nothing at all: the puts fail within the SDK’s three attempts, are counted as network errors, and /healthz turns unhealthy', async () => {
    const { worker, relay, lines } = await workerBehind('dl-dead', 20, 'kinesis', { UNHEALTHY_AFTER_S: '1' });
    relay.hold();
    worker.start();
    await until(async () => worker.faults.counts.network > 0, 5_000);
    expect(lines.find((l) => l.operation === 'PutRecords' && l.kind === 'network')).toMatchObject({ error: 'TimeoutError: no answer within 1500 ms' });
    await until(async () => !health(worker).healthy, 5_000);
    expect(health(worker).reason).toMatch(/^PutRecords has failed for \d+ s \(network: TimeoutError: no answer within 1500 ms\)$/);
    expect(worker.awsCalls.byOperation.get('PutRecords')!.timeouts).toBeGreaterThanOrEqual(3);
    expect(worker.counters.published).toBe(0);
  }, 30_000);

  it('serve: one SendMessageBatch in three unanswered — every signed event is answered 200 within seconds, the stalls logged and in the stats line', async () => {
    const { queueUrl } = await createQueues(services.sqs, 'dl-serve');
    const relay = await gate(services.sqsEndpoint);
    const signer = await startLocalSigner();
    const clients = createClients({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, sqsEndpoint: relay.url, callTimeoutMs: 1500 });
    const { lines, logger } = captured();
    const config = loadServeConfig({ SQS_QUEUE_URL: queueUrl, AWS_REGION: LOCAL_REGION, CANVAS_JWKS_URL: signer.url, PORT: '0', ENQUEUE_LINGER_MS: '0' });
    const serving = await startServe(config, clients.sqs, logger, clients.calls);
    cleanup.push(
      () => relay.close(),
      () => signer.stop(),
      () => clients.sqs.destroy(),
      () => serving.stop(),
    );
    relay.holdEvery(3, ['SendMessageBatch']);
    const events = distinctEvents(6, 'dl-serve');
    const started = Date.now();
    const answers = [];
    // One at a time: each its own SendMessageBatch.
    for (const event of events) answers.push((await post(`http://127.0.0.1:${serving.port}/`, await signer.sign({ ...event }))).status);
    expect(answers).toEqual(events.map(() => 200));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(relay.heldSoFar()).toBeGreaterThanOrEqual(2);
    expect(await queueDepth(services.sqs, queueUrl)).toBe(6);
    expect(lines.find((l) => l.kind === 'timeout')).toMatchObject({ operation: 'SendMessageBatch', msg: 'SendMessageBatch stalled (timeout): no answer within 1500 ms; the attempt was cut and the AWS SDK retries it' });
    await serving.stop();
    const stats = lines.filter((l) => l.msg === 'stats').at(-1) as { stats: { aws: Record<string, { timeouts: number; retries: number }> } };
    expect(stats.stats.aws.SendMessageBatch!.timeouts).toBe(relay.heldSoFar());
    expect(stats.stats.aws.SendMessageBatch!.retries).toBeGreaterThanOrEqual(relay.heldSoFar());
  }, 30_000);
});
