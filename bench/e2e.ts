// npm run bench:e2e [-- --json]: the worker's own cost end to end. The worker (`canvas-caliper run`)
// runs as a child process against an SQS endpoint and a Kinesis endpoint, each in a process of its own,
// fed with distinct events made from samples/ (the queue is kept topped up: the worker never waits for
// messages). The bench reads the CPU time (user + system) of every process from /proc/<pid>/stat over
// the measured window — every event after the first 2,000 (start-up, JIT warm-up) — so the worker's CPU
// per event is its own, and each endpoint's share of a core says whether it, rather than the worker,
// set the pace: a run where an endpoint used more than half a core is marked invalid. A naive worker
// (sqs-consumer, one PutRecord per message, bench/naive-worker.ts) runs in the same run on the same
// endpoints. RSS at 10k and at the end is the worker's peak over the 5,000 events before the mark.
// In the same run, the same worker with SINK=caliper-http posts to a lean Caliper endpoint
// (bench/lean-caliper.ts) on a fresh queue, measured the same way (BENCH_E2E_HTTP=0 leaves it out),
// and then once more with OAuth 2.0 client credentials (the same endpoint's /token, tokens of 5 s)
// instead of a static token: its CPU per event against the static token's.
//
// Endpoints (bench/lean-sqs.ts, bench/lean-kinesis.ts) are lean in-memory implementations of the calls
// the workers make: the emulators the tests use cost more CPU per message than the worker does
// (BENCH_E2E_SQS=local-aws-sqs, BENCH_E2E_KINESIS=kinesis-local run them here instead, to see it).
//
// BENCH_E2E_EVENTS (100000), BENCH_E2E_NAIVE_EVENTS (2000), BENCH_PROFILE=<dir> (a CPU profile of the
// worker: `node dist/bench/profile-top.js <dir>/*.cpuprofile` summarises it), BENCH_WORKER_NODE_ARGS
// (flags for the worker's node, e.g. "--single-threaded-gc"), BENCH_TRACE=1 (the worker's CPU per event
// of every 5,000 events on stderr), POLLERS (8) and MAX_IN_FLIGHT (2000) for the worker.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { distinctEvents, loadSamples } from '../src/samples.js';
import { createClients } from '../src/worker/clients.js';
import { createStream, freePort, LOCAL_CREDENTIALS, LOCAL_REGION, queueDepth } from '../src/worker/local.js';
import { cpuMs, endpointProcess } from './procs.js';
import { BENCH_CLIENT, BENCH_TOKEN } from './lean-caliper.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const json = process.argv.includes('--json');
const TOTAL = Number(process.env.BENCH_E2E_EVENTS ?? 100_000);
const NAIVE = Number(process.env.BENCH_E2E_NAIVE_EVENTS ?? 2_000);
/** The first events (start-up, JIT warm-up) are left out of the measured window. */
const WARMUP = Math.min(2_000, Math.floor(TOTAL / 10));
const SQS_KIND = process.env.BENCH_E2E_SQS ?? 'lean';
const KINESIS_KIND = process.env.BENCH_E2E_KINESIS ?? 'lean';
const POLLERS = process.env.POLLERS ?? '8';
/** BENCH_E2E_HTTP=0 leaves out the run with SINK=caliper-http. */
const HTTP_SINK = process.env.BENCH_E2E_HTTP !== '0';
const MAX_IN_FLIGHT = process.env.MAX_IN_FLIGHT ?? '2000';
/** An endpoint that uses more than this share of a core is (close to) the bottleneck: the run is invalid. */
const ENDPOINT_LIMIT = 0.5;
const log = (m: string) => (json ? undefined : console.log(m));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- Processes and what they cost ---------------------------------------------------------------

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const children: ChildProcess[] = [];

/** Starts an endpoint process; resolves with it and its URL once it accepts connections. */
async function endpoint(kind: string): Promise<{ child: ChildProcess; url: string }> {
  if (kind === 'kinesis-local') {
    const port = await freePort();
    const dir = path.dirname(createRequire(import.meta.url).resolve('kinesis-local/package.json'));
    const env = { ...process.env, KINESIS_MOCK_PLAIN_PORT: String(port), KINESIS_MOCK_TLS_PORT: String(await freePort()), LOG_LEVEL: 'WARN', CREATE_STREAM_DURATION: '0ms', AWS_REGION: LOCAL_REGION };
    const child = spawn(process.execPath, ['main.js'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(child);
    for (let i = 0; i < 300; i++) {
      const up = await new Promise<boolean>((r) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false)));
      if (up) return { child, url: `http://127.0.0.1:${port}` };
      await sleep(100);
    }
    throw new Error('kinesis-local did not start');
  }
  const started = await endpointProcess(kind);
  children.push(started.child);
  return started;
}

async function stats(url: string): Promise<Record<string, any> | undefined> {
  try {
    return (await (await fetch(`${url}/stats`)).json()) as Record<string, any>;
  } catch {
    return undefined;
  }
}

// --- Events ---------------------------------------------------------------------------------------

const samples = loadSamples();
let serial = 0;
const nextBodies = (n: number) => {
  const bodies = distinctEvents(n, 'bench', samples, serial).map((raw) => JSON.stringify(raw));
  serial += n;
  return bodies;
};

/** Sends `bodies` in SendMessageBatch calls of 10, a few at a time. */
async function enqueue(sqs: SQSClient, queueUrl: string, bodies: string[]): Promise<void> {
  const calls: string[][] = [];
  for (let i = 0; i < bodies.length; i += 10) calls.push(bodies.slice(i, i + 10));
  for (let i = 0; i < calls.length; i += 8) {
    await Promise.all(
      calls.slice(i, i + 8).map(async (batch) => {
        const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((b, j) => ({ Id: String(j), MessageBody: b })) }));
        if (out.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(out.Failed)}`);
      }),
    );
  }
}

function workerEnv(sqsUrl: string, kinesisUrl: string, queueUrl: string, stream: string, healthPort: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'production',
    SQS_QUEUE_URL: queueUrl,
    KINESIS_STREAM_NAME: stream,
    AWS_REGION: LOCAL_REGION,
    AWS_ENDPOINT_URL_SQS: sqsUrl,
    AWS_ENDPOINT_URL_KINESIS: kinesisUrl,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    HEALTH_PORT: String(healthPort),
    POLLERS,
    MAX_IN_FLIGHT,
    RECEIVE_WAIT_TIME_S: '1',
    LOG_LEVEL: 'warn',
  };
}

/** The worker's variables for SINK=caliper-http against the lean Caliper endpoint (HTTP_* as the worker's defaults unless set). */
const httpSinkEnv = (url: string): NodeJS.ProcessEnv => ({ SINK: 'caliper-http', CALIPER_ENDPOINT_URL: `${url}/caliper`, CALIPER_ENDPOINT_TOKEN: BENCH_TOKEN });

/** The same with OAuth 2.0 client credentials from the lean endpoint's /token. */
const oauthSinkEnv = (url: string): NodeJS.ProcessEnv => ({
  SINK: 'caliper-http',
  CALIPER_ENDPOINT_URL: `${url}/caliper`,
  CALIPER_ENDPOINT_TOKEN_URL: `${url}/token`,
  CALIPER_ENDPOINT_CLIENT_ID: BENCH_CLIENT.id,
  CALIPER_ENDPOINT_CLIENT_SECRET: BENCH_CLIENT.secret,
});

/** The worker's counters, from its /metrics. */
async function workerMetrics(port: number): Promise<{ acked: number; inFlight: number }> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return { acked: Number(/canvas_caliper_acknowledged_total (\d+)/.exec(text)?.[1] ?? 0), inFlight: Number(/canvas_caliper_in_flight (\d+)/.exec(text)?.[1] ?? 0) };
  } catch {
    return { acked: 0, inFlight: 0 };
  }
}

// --- The run ----------------------------------------------------------------------------------------

const sqsEndpoint = await endpoint(SQS_KIND === 'lean' ? 'lean-sqs' : SQS_KIND);
const kinesisEndpoint = await endpoint(KINESIS_KIND === 'lean' ? 'lean-kinesis' : KINESIS_KIND);
const caliperEndpoint = HTTP_SINK ? await endpoint('lean-caliper') : undefined;
const { sqs, kinesis } = createClients({ region: LOCAL_REGION, sqsEndpoint: sqsEndpoint.url, kinesisEndpoint: kinesisEndpoint.url, credentials: LOCAL_CREDENTIALS });
try {
  /** Our worker on a fresh queue with this sink: the measured window, CPU shares, RSS and calls per event. */
  const measure = async (name: string, sinkKind: 'kinesis' | 'caliper-http', label: string, sinkEnv = httpSinkEnv) => {
    // Ours: the queue is kept topped up ahead of what the worker acknowledged (it never waits for
    // messages); acknowledgements are read from the worker's /metrics.
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
    if (sinkKind === 'kinesis') await createStream(kinesis, name, 4);
    const ahead = Number(MAX_IN_FLIGHT) + 3_000;
    let enqueued = Math.min(TOTAL, ahead);
    let acked = 0;
    await enqueue(sqs, queueUrl, nextBodies(enqueued));
    const port = await freePort();
    const profile = [...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []), ...(process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
    const worker = spawn(process.execPath, [...profile, path.join(root, 'bin/canvas-caliper.js'), 'run'], {
      env: { ...workerEnv(sqsEndpoint.url, kinesisEndpoint.url, queueUrl, name, port), ...(sinkKind === 'kinesis' ? {} : sinkEnv(caliperEndpoint!.url)) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(worker);
    const sinkEndpoint = sinkKind === 'kinesis' ? kinesisEndpoint : caliperEndpoint!;
    const pids = { worker: worker.pid!, sqs: sqsEndpoint.child.pid!, sink: sinkEndpoint.child.pid!, bench: process.pid };
    const cpuOf = () => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)])) as Record<keyof typeof pids, number>;

    const started = Date.now();
    let window: { at: number; acked: number; cpu: Record<keyof typeof pids, number>; sqs?: Record<string, any>; sink?: Record<string, any> } | undefined;
    /** The worker's RSS every 250 ms, with the count acknowledged by then. */
    const rss: { acked: number; mib: number }[] = [];
    let inFlightMax = 0;
    let traceAt: { acked: number; cpu: number } | undefined;
    let lastRssAt = 0;
    const feeding = (async () => {
      while (enqueued < TOTAL) {
        if (enqueued - acked < ahead) {
          const n = Math.min(1_000, TOTAL - enqueued);
          await enqueue(sqs, queueUrl, nextBodies(n));
          enqueued += n;
        } else await sleep(20);
      }
    })();
    while (acked < TOTAL) {
      await sleep(100);
      if (worker.exitCode !== null) throw new Error(`the worker exited (${worker.exitCode})`);
      const m = await workerMetrics(port);
      acked = m.acked;
      inFlightMax = Math.max(inFlightMax, m.inFlight);
      if (process.env.BENCH_TRACE && acked >= (traceAt?.acked ?? 0) + 5000) {
        const now = { acked, cpu: cpuMs(pids.worker) };
        if (traceAt) console.error(`trace ${now.acked}: ${(((now.cpu - traceAt.cpu) * 1000) / (now.acked - traceAt.acked)).toFixed(0)} µs/event, RSS ${rssMiB(pids.worker).toFixed(0)} MiB, in flight ${m.inFlight}`);
        traceAt = now;
      }
      if (!window && acked >= WARMUP) window = { at: Date.now(), acked, cpu: cpuOf(), sqs: await stats(sqsEndpoint.url), sink: await stats(sinkEndpoint.url) };
      if (Date.now() - lastRssAt >= 250) {
        rss.push({ acked, mib: rssMiB(pids.worker) });
        lastRssAt = Date.now();
      }
    }
    const end = { at: Date.now(), acked, cpu: cpuOf(), sqs: await stats(sqsEndpoint.url), sink: await stats(sinkEndpoint.url) };
    rss.push({ acked, mib: rssMiB(pids.worker) });
    // RSS at a mark: its peak over the 5,000 events up to the mark (a single sample would land anywhere on the GC saw-tooth).
    const rssAt = (mark: number) => Math.max(...rss.filter((r) => r.acked > mark - 5_000 && r.acked <= mark).map((r) => r.mib), 0);
    const rss10k = rssAt(Math.min(10_000, TOTAL));
    const rssEnd = rssAt(end.acked);
    const rssMax = Math.max(...rss.map((r) => r.mib));
    await feeding;
    await stop(worker);
    const totalSeconds = (end.at - started) / 1000;
    const seconds = (end.at - window!.at) / 1000;
    const events = end.acked - window!.acked;
    const share = (k: keyof typeof pids) => +((end.cpu[k] - window!.cpu[k]) / 1000 / seconds).toFixed(3);
    const eventsPerSecond = events / seconds;
    const workerCpuMicrosPerEvent = ((end.cpu.worker - window!.cpu.worker) * 1000) / events;
    const endpointCpu = { sqs: share('sqs'), [sinkKind === 'kinesis' ? 'kinesis' : 'caliper']: share('sink') };
    const sink = sinkKind !== 'kinesis' || KINESIS_KIND === 'lean' ? end.sink : undefined;
    // The calls the worker made per event over the window (lean endpoints count them; SendMessageBatch is the bench's).
    const perEvent = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : +((a - b) / events).toFixed(4));
    const calls =
      SQS_KIND === 'lean' && KINESIS_KIND === 'lean'
        ? {
            receiveMessage: perEvent(end.sqs?.actions?.ReceiveMessage, window!.sqs?.actions?.ReceiveMessage),
            deleteMessageBatch: perEvent(end.sqs?.actions?.DeleteMessageBatch, window!.sqs?.actions?.DeleteMessageBatch),
            changeMessageVisibilityBatch: perEvent(end.sqs?.actions?.ChangeMessageVisibilityBatch ?? 0, window!.sqs?.actions?.ChangeMessageVisibilityBatch ?? 0),
            ...(sinkKind === 'kinesis' ? { putRecords: perEvent(end.sink?.calls, window!.sink?.calls) } : { posts: perEvent(end.sink?.requests, window!.sink?.requests) }),
          }
        : undefined;
    log(
      `${label} ${events} events (after the first ${window!.acked}) in ${seconds.toFixed(1)} s = ${eventsPerSecond.toFixed(0)} events/s; ` +
        `worker CPU ${workerCpuMicrosPerEvent.toFixed(0)} µs/event (${share('worker')} of a core); ` +
        `SQS endpoint ${endpointCpu.sqs}, ${sinkKind === 'kinesis' ? 'Kinesis' : 'Caliper'} endpoint ${share('sink')}, bench ${share('bench')} of a core`,
    );
    log(`       all ${TOTAL} in ${totalSeconds.toFixed(1)} s; worker RSS ${rss10k.toFixed(0)} MiB after 10k, ${rssEnd.toFixed(0)} MiB after ${Math.round(end.acked / 1000)}k (max ${rssMax.toFixed(0)}); in flight up to ${inFlightMax}`);
    return { events, seconds, totalSeconds, eventsPerSecond, workerCpuMicrosPerEvent, endpointCpu, sink, calls, share, rss10k, rssEnd, rssMax, end, inFlightMax };
  };
  const ours = await measure('bench-ours', 'kinesis', 'ours: ');
  const { events, seconds, totalSeconds, eventsPerSecond, workerCpuMicrosPerEvent, endpointCpu, sink, calls, share, rss10k, rssEnd, rssMax, end, inFlightMax } = ours;
  // The same worker with SINK=caliper-http against a lean Caliper endpoint (bench/lean-caliper.ts), same run.
  const http = caliperEndpoint ? await measure('bench-http', 'caliper-http', 'http: ') : undefined;
  // And with OAuth 2.0 client credentials, same endpoint, same run: what renewing tokens costs per event.
  const oauth = caliperEndpoint ? await measure('bench-http-oauth', 'caliper-http', 'http oauth: ', oauthSinkEnv) : undefined;

  // Naive: the same kind of events, fewer of them (it is slower), on a fresh queue and stream of the
  // same endpoints; timed from its first deletion to an empty queue (its start-up left out, as ours).
  const naiveQueue = (await sqs.send(new CreateQueueCommand({ QueueName: 'bench-naive' }))).QueueUrl!;
  await createStream(kinesis, 'bench-naive', 4);
  await enqueue(sqs, naiveQueue, nextBodies(NAIVE));
  const naiveWorker = spawn(process.execPath, [path.join(here, 'naive-worker.js')], { env: workerEnv(sqsEndpoint.url, kinesisEndpoint.url, naiveQueue, 'bench-naive', 0), stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(naiveWorker);
  let naiveStart: { at: number; depth: number; cpu: number } | undefined;
  for (;;) {
    const depth = await queueDepth(sqs, naiveQueue);
    if (!naiveStart && depth < NAIVE) naiveStart = { at: Date.now(), depth, cpu: cpuMs(naiveWorker.pid!) };
    if (depth === 0) break;
    if (naiveWorker.exitCode !== null) throw new Error(`the naive worker exited (${naiveWorker.exitCode})`);
    await sleep(50);
  }
  const naiveSeconds = (Date.now() - naiveStart!.at) / 1000;
  const naiveCpu = cpuMs(naiveWorker.pid!) - naiveStart!.cpu;
  await stop(naiveWorker);
  const naiveRate = naiveStart!.depth / naiveSeconds;
  log(`naive: ${naiveStart!.depth} events in ${naiveSeconds.toFixed(1)} s = ${naiveRate.toFixed(0)} events/s; ${((naiveCpu * 1000) / naiveStart!.depth).toFixed(0)} µs of CPU per event`);

  /** Why a run does not measure the worker: an endpoint set the pace, or the sink holds less (or other) than was acknowledged. */
  const problemsOf = (run: typeof ours, what: string) => [
    ...Object.entries(run.endpointCpu)
      .filter(([, s]) => s > ENDPOINT_LIMIT)
      .map(([k, s]) => `${what}: the ${k} endpoint used ${s} of a core (over ${ENDPOINT_LIMIT}): it, not the worker, may have set the pace`),
    ...(run.sink && run.sink.malformed ? [`${what}: ${run.sink.malformed} records the endpoint checked were not Caliper`] : []),
    ...(run.sink && (run.sink.records ?? run.sink.events) < run.end.acked ? [`${what}: the endpoint holds ${run.sink.records ?? run.sink.events} events, fewer than the ${run.end.acked} acknowledged`] : []),
  ];
  const problems = [...problemsOf(ours, 'kinesis'), ...(http ? problemsOf(http, 'caliper-http') : []), ...(oauth ? problemsOf(oauth, 'caliper-http with OAuth') : [])];
  const result = {
    eventsPerSecond: Math.round(eventsPerSecond),
    workerCpuMicrosPerEvent: Math.round(workerCpuMicrosPerEvent),
    ratioToNaive: +(eventsPerSecond / naiveRate).toFixed(2),
    rssMiB10k: +rss10k.toFixed(1),
    rssMiB100k: +rssEnd.toFixed(1),
    endpointCpuShare: Math.max(...Object.values(endpointCpu)),
    valid: problems.length === 0,
    problems,
    endpointCpu,
    endpoints: { sqs: SQS_KIND, kinesis: KINESIS_KIND },
    workerCpuShare: share('worker'),
    benchCpuShare: share('bench'),
    rssFlat: Math.abs(rssEnd / rss10k - 1) <= 0.1,
    rssMiBMax: +rssMax.toFixed(1),
    rssMiB100kAtEvents: end.acked,
    inFlightMax,
    callsPerEvent: calls,
    naiveEventsPerSecond: Math.round(naiveRate),
    naiveCpuMicrosPerEvent: Math.round((naiveCpu * 1000) / naiveStart!.depth),
    events: TOTAL,
    measuredEvents: events,
    measuredSeconds: +seconds.toFixed(2),
    totalSeconds: +totalSeconds.toFixed(1),
    naiveEvents: naiveStart!.depth,
    kinesisRecords: sink?.records,
    kinesisBytesPerRecord: sink?.records ? Math.round(sink.bytes / sink.records) : undefined,
    worker: { POLLERS: Number(POLLERS), MAX_IN_FLIGHT: Number(MAX_IN_FLIGHT) },
    // SINK=caliper-http in the same run: its figures, and its CPU per event over the Kinesis sink's.
    http: http && {
      eventsPerSecond: Math.round(http.eventsPerSecond),
      workerCpuMicrosPerEvent: Math.round(http.workerCpuMicrosPerEvent),
      cpuPerEventToKinesis: +(http.workerCpuMicrosPerEvent / workerCpuMicrosPerEvent).toFixed(2),
      endpointCpu: http.endpointCpu,
      eventsPerPost: http.sink?.requests ? +(http.sink.events / http.sink.requests).toFixed(1) : undefined,
      bytesPerEvent: http.sink?.events ? Math.round(http.sink.bytes / http.sink.events) : undefined,
      rssMiBMax: +http.rssMax.toFixed(1),
      measuredEvents: http.events,
      callsPerEvent: http.calls,
      // OAuth 2.0 client credentials instead of the static token: its CPU per event over the static token's.
      oauth: oauth && {
        eventsPerSecond: Math.round(oauth.eventsPerSecond),
        workerCpuMicrosPerEvent: Math.round(oauth.workerCpuMicrosPerEvent),
        cpuPerEventToStaticToken: +(oauth.workerCpuMicrosPerEvent / http.workerCpuMicrosPerEvent).toFixed(3),
        tokensIssued: oauth.sink?.tokens,
        measuredSeconds: +oauth.seconds.toFixed(2),
        measuredEvents: oauth.events,
      },
    },
    node: process.version,
  };
  if (json) console.log(JSON.stringify(result));
  else {
    log(`ratio to naive: ${result.ratioToNaive} (goal ≥ 10); worker CPU per event ${result.workerCpuMicrosPerEvent} µs (goal ≤ 200); RSS flat: ${result.rssFlat}`);
    if (result.http) log(`http sink: ${result.http.eventsPerSecond} events/s, worker CPU ${result.http.workerCpuMicrosPerEvent} µs/event (${result.http.cpuPerEventToKinesis}× the Kinesis sink's), ${result.http.eventsPerPost} events per POST`);
    if (result.http?.oauth) log(`http sink with OAuth: ${result.http.oauth.eventsPerSecond} events/s, worker CPU ${result.http.oauth.workerCpuMicrosPerEvent} µs/event (${result.http.oauth.cpuPerEventToStaticToken}× the static token's), ${result.http.oauth.tokensIssued} tokens issued`);
    log(result.valid ? 'valid run' : `INVALID run: ${problems.join('; ')}`);
  }
} finally {
  for (const child of children.reverse()) await stop(child);
  sqs.destroy();
  kinesis.destroy();
  process.exit(0);
}
