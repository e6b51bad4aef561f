// npm run bench:e2e [-- --json]: events/s through the local services (local-aws-sqs, kinesis-local)
// for our worker and, in the same run, for a naive worker (sqs-consumer + one PutRecord per message),
// and the worker's resident memory after 10k and after 100k events.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distinctEvents, loadSamples } from '../src/samples.js';
import { DeleteStreamCommand } from '@aws-sdk/client-kinesis';
import { createQueues, createStream, enqueue, freePort, LOCAL_CREDENTIALS, LOCAL_REGION, queueDepth, startLocalServices, type LocalServices } from '../src/worker/local.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const json = process.argv.includes('--json');
const TOTAL = Number(process.env.BENCH_E2E_EVENTS ?? 100_000);
/** Events over which the rate is measured (the first ones, on a fresh stream, as for the naive worker). */
const RATE_EVENTS = Math.min(TOTAL, 10_000);
/** kinesis-local slows down as a stream grows (it keeps every record), so the stream is re-created this often. */
const RECYCLE_EVERY = 10_000;
const NAIVE = Number(process.env.BENCH_E2E_NAIVE_EVENTS ?? 2_000);
const log = (m: string) => (json ? undefined : console.log(m));

const samples = loadSamples();
let serial = 0;
const nextBodies = (n: number) => {
  const bodies = distinctEvents(n, 'bench', samples, serial).map((raw) => JSON.stringify(raw));
  serial += n;
  return bodies;
};

function env(s: LocalServices, queueUrl: string, stream: string, healthPort: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'production',
    SQS_QUEUE_URL: queueUrl,
    KINESIS_STREAM_NAME: stream,
    AWS_REGION: LOCAL_REGION,
    AWS_ENDPOINT_URL_SQS: s.sqsEndpoint,
    AWS_ENDPOINT_URL_KINESIS: s.kinesisEndpoint,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    HEALTH_PORT: String(healthPort),
    // Throughput settings: kinesis-local spends ~2 ms per record, so what counts is keeping full
    // 500-record PutRecords calls going, which needs more than 500 messages in flight.
    POLLERS: process.env.POLLERS ?? '8',
    MAX_IN_FLIGHT: process.env.MAX_IN_FLIGHT ?? '2000',
    RECEIVE_WAIT_TIME_S: '1',
    LOG_LEVEL: 'warn',
  };
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function acknowledged(port: number): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(/canvas_caliper_acknowledged_total (\d+)/.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const services = await startLocalServices();
try {
  // Ours: keep the queue topped up (local-aws-sqs scans its whole queue on every receive), count
  // acknowledgements from the worker's /metrics, sample its RSS at 10k and 100k.
  const ours = await createQueues(services.sqs, 'bench-ours');
  await createStream(services.kinesis, 'bench-ours', 4);
  const port = await freePort();
  await enqueue(services.sqs, ours.queueUrl, nextBodies(2_000));
  let enqueued = 2_000;
  const worker = spawn(process.execPath, [...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROFILE] : []), path.join(root, 'bin/canvas-caliper.js'), 'run'], { env: env(services, ours.queueUrl, 'bench-ours', port), stdio: ['ignore', 'ignore', 'inherit'] });
  const start = Date.now();
  let rss10k = 0;
  let acked = 0;
  let rateSeconds = 0;
  let recycled = 0;
  while (acked < TOTAL) {
    if (enqueued < TOTAL && enqueued - acked < 3_000) {
      const n = Math.min(1_000, TOTAL - enqueued);
      await enqueue(services.sqs, ours.queueUrl, nextBodies(n));
      enqueued += n;
    } else await sleep(50);
    acked = await acknowledged(port);
    if (!rateSeconds && acked >= RATE_EVENTS) rateSeconds = (Date.now() - start) / 1000;
    if (!rss10k && acked >= 10_000) rss10k = rssMiB(worker.pid!);
    if (acked >= (recycled + 1) * RECYCLE_EVERY && acked < TOTAL) {
      // The worker's PutRecords fail while the stream is gone, and are retried within its budget.
      recycled++;
      await services.kinesis.send(new DeleteStreamCommand({ StreamName: 'bench-ours', EnforceConsumerDeletion: true }));
      await sleep(700);
      await createStream(services.kinesis, 'bench-ours', 4);
    }
  }
  const oursSeconds = (Date.now() - start) / 1000;
  const rss100k = rssMiB(worker.pid!);
  await stop(worker);
  const oursRate = RATE_EVENTS / rateSeconds;
  log(`ours:  first ${RATE_EVENTS} events in ${rateSeconds.toFixed(1)} s = ${oursRate.toFixed(0)} events/s; all ${TOTAL} in ${oursSeconds.toFixed(1)} s; RSS ${rss10k.toFixed(0)} MiB after 10k, ${rss100k.toFixed(0)} MiB after ${TOTAL / 1000}k`);

  // Naive: the same kind of events, fewer of them (it is slow), timed from start to an empty queue.
  const naive = await createQueues(services.sqs, 'bench-naive');
  await createStream(services.kinesis, 'bench-naive', 4);
  await enqueue(services.sqs, naive.queueUrl, nextBodies(NAIVE));
  const naiveStart = Date.now();
  const naiveWorker = spawn(process.execPath, [path.join(here, 'naive-worker.js')], { env: env(services, naive.queueUrl, 'bench-naive', 0), stdio: ['ignore', 'ignore', 'inherit'] });
  while ((await queueDepth(services.sqs, naive.queueUrl)) > 0) await sleep(100);
  const naiveSeconds = (Date.now() - naiveStart) / 1000;
  await stop(naiveWorker);
  const naiveRate = NAIVE / naiveSeconds;
  log(`naive: ${NAIVE} events in ${naiveSeconds.toFixed(1)} s = ${naiveRate.toFixed(0)} events/s`);

  const result = {
    ratioToNaive: +(oursRate / naiveRate).toFixed(2),
    eventsPerSecond: Math.round(oursRate),
    naiveEventsPerSecond: Math.round(naiveRate),
    rssMiB10k: +rss10k.toFixed(1),
    rssMiB100k: +rss100k.toFixed(1),
    events: TOTAL,
    rateEvents: RATE_EVENTS,
    totalSeconds: +oursSeconds.toFixed(1),
    naiveEvents: NAIVE,
    node: process.version,
  };
  if (json) console.log(JSON.stringify(result));
  else log(`ratio to naive: ${result.ratioToNaive} (goal ≥ 10)`);
} finally {
  await services.stop();
  process.exit(0);
}
