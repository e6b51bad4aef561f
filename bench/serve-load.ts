// npm run bench:serve [-- --json]: `canvas-caliper serve` under load on loopback, bounded in count and
// time. serve runs as a child process pinned to one core (taskset -c 1, when taskset exists) against
// the lean SQS endpoint (bench/lean-sqs.ts, a process of its own); the JWKS and the load generator run
// here, and they and the endpoint keep to core 0. Tokens are RS256-signed before the clock starts (a pool of distinct signed events, posted in
// turn), so the bench's own signing is not measured.
//
// Two phases, each after a warm-up:
// - capacity: CONCURRENCY keep-alive connections post as fast as serve answers (closed loop): events
//   per second, and serve's CPU per event (from /proc) as events per second of one core;
// - latency: an open loop at BENCH_SERVE_RATE events per second (default 2,000): each request's
//   latency counts from the moment it was due, so a stall is not hidden by the sender waiting (no
//   coordinated omission): p50, p99, max; and from when it was actually sent (p50, p99), which leaves
//   out the generator's own lateness on a busy machine.
// Every answer must be 200 and the SQS endpoint must have received every event; else the run fails.
//
// BENCH_SERVE_EVENTS (20000 per phase), BENCH_SERVE_RATE (2000), BENCH_SERVE_CONCURRENCY (32),
// BENCH_SERVE_MAX_S (60: a phase that has not finished by then stops, and the run is marked so),
// BENCH_PROFILE=<dir> (a CPU profile of serve: `node dist/bench/profile-top.js <dir>/*.cpuprofile`).
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { post, startLocalSigner } from '../src/ingest/local.js';
import { distinctEvents } from '../src/samples.js';
import { createClients } from '../src/worker/clients.js';
import { freePort, LOCAL_CREDENTIALS, LOCAL_REGION } from '../src/worker/local.js';
import { cpuMs, endpointProcess } from './procs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const json = process.argv.includes('--json');
const EVENTS = Number(process.env.BENCH_SERVE_EVENTS ?? 20_000);
const RATE = Number(process.env.BENCH_SERVE_RATE ?? 2_000);
const CONCURRENCY = Number(process.env.BENCH_SERVE_CONCURRENCY ?? 32);
const MAX_MS = Number(process.env.BENCH_SERVE_MAX_S ?? 60) * 1000;
const WARMUP = Math.min(2_000, Math.floor(EVENTS / 10));
const POOL = 2_000;
const log = (m: string) => (json ? undefined : console.log(m));

const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '1', 'true']);
    return true;
  } catch {
    return false;
  }
})();

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

async function main(): Promise<void> {
  // The load generator, the JWKS and the SQS endpoint (a child, which inherits it) keep to core 0, so
  // that serve has core 1 to itself: its latency is then serve's, not the generator's competition.
  if (hasTaskset) execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const sqsEndpoint = await endpointProcess('lean-sqs');
  const clients = createClients({ region: LOCAL_REGION, sqsEndpoint: sqsEndpoint.url, credentials: LOCAL_CREDENTIALS });
  const queueUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: 'bench-serve' }))).QueueUrl!;
  const signer = await startLocalSigner();
  log(`signing ${POOL} distinct events (RS256)…`);
  const tokens = await Promise.all(distinctEvents(POOL, 'serve-load').map((e) => signer.sign({ ...e })));
  const port = await freePort();
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const command = [process.execPath, ...profile, path.join(root, 'bin/canvas-caliper.js'), 'serve'];
  const serve = spawn(hasTaskset ? 'taskset' : command[0]!, hasTaskset ? ['-c', '1', ...command] : command.slice(1), {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      SQS_QUEUE_URL: queueUrl,
      AWS_REGION: LOCAL_REGION,
      AWS_ENDPOINT_URL_SQS: sqsEndpoint.url,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      CANVAS_JWKS_URL: signer.url,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {
      if (i > 100) throw new Error('serve did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });
  let next = 0;
  const token = () => tokens[next++ % tokens.length]!;
  let refused = 0;
  const send = async () => {
    const { status } = await post(url, token(), agent);
    if (status !== 200) refused++;
  };

  // Capacity: closed loop.
  let done = 0;
  let markCpu = 0;
  let markAt = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (done < EVENTS + WARMUP && Date.now() - started < MAX_MS) {
        await send();
        if (++done === WARMUP) [markCpu, markAt] = [cpuMs(serve.pid!), performance.now()];
      }
    }),
  );
  const capacity = { events: done - WARMUP, seconds: (performance.now() - markAt) / 1000, serveCpuMs: cpuMs(serve.pid!) - markCpu };
  const perSecond = capacity.events / capacity.seconds;
  const cpuUsPerEvent = (capacity.serveCpuMs * 1000) / capacity.events;
  log(`capacity: ${Math.round(perSecond)} events/s with ${CONCURRENCY} connections; serve CPU ${cpuUsPerEvent.toFixed(0)} µs per event = ${Math.round(1e6 / cpuUsPerEvent)} events per second of one core`);

  // Latency: open loop at RATE.
  const latencies: number[] = [];
  /** From the moment the request was actually sent: without the generator's own lateness (a busy machine). */
  const serviceTimes: number[] = [];
  const intervalMs = 1000 / RATE;
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < EVENTS + WARMUP && performance.now() - t0 < MAX_MS; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const k = i;
    const sentAt = performance.now();
    pending.push(
      send().then(() => {
        if (k < WARMUP) return;
        latencies.push(performance.now() - due);
        serviceTimes.push(performance.now() - sentAt);
      }),
    );
  }
  await Promise.all(pending);
  const achieved = latencies.length / ((performance.now() - t0 - (WARMUP * intervalMs)) / 1000);
  latencies.sort((a, b) => a - b);
  serviceTimes.sort((a, b) => a - b);
  const latency = { rate: RATE, achieved: Math.round(achieved), p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1]!, sentP50: percentile(serviceTimes, 50), sentP99: percentile(serviceTimes, 99) };
  log(`latency at ${RATE}/s offered (${latency.achieved}/s answered), from when due: p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms, max ${latency.max.toFixed(1)} ms; from when sent: p50 ${latency.sentP50.toFixed(1)} ms, p99 ${latency.sentP99.toFixed(1)} ms`);

  const sqsStats = (await (await fetch(`${sqsEndpoint.url}/stats`)).json()) as { sent: number };
  const expected = done + pending.length;
  const complete = refused === 0 && sqsStats.sent === expected;
  log(`answers not 200: ${refused}; SQS received ${sqsStats.sent} of ${expected}${hasTaskset ? '' : ' (taskset missing: serve was not pinned to one core)'}`);
  const met = complete && perSecond >= 2000 && 1e6 / cpuUsPerEvent >= 2000 && latency.p99 < 50;
  log(`target (>= 2,000 events/s on one core, p99 < 50 ms): ${met ? 'met' : 'NOT met'}`);
  if (json) console.log(JSON.stringify({ events: EVENTS, concurrency: CONCURRENCY, pinned: hasTaskset, capacity: { perSecond: Math.round(perSecond), cpuUsPerEvent: Math.round(cpuUsPerEvent) }, latency, refused, sqsReceived: sqsStats.sent, expected, met }));
  agent.destroy();
  serve.kill('SIGTERM');
  await new Promise((r) => serve.once('exit', r));
  sqsEndpoint.child.kill('SIGTERM');
  await signer.stop();
  clients.sqs.destroy();
  clients.kinesis.destroy();
  if (!complete) process.exitCode = 1;
}

await main();
