// `canvas-caliper run`: the long-running worker (what `npm start` and the container run).
import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { ConfigError, loadConfig, withPrivacyKey, type Config } from '../config.js';
import { deterministicEventId } from '../engine.js';
import { createClients } from './clients.js';
import { LOCAL_REGION } from './local.js';
import { startHealthServer, startStats } from './observe.js';
import { Worker } from './worker.js';

export interface RunIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Runs the worker until SIGTERM/SIGINT; returns the exit code. */
export async function runWorker(io: RunIo): Promise<number> {
  const embedded = !io.env.SQS_QUEUE_URL && io.env.NODE_ENV !== 'production';
  // Every problem at once, in embedded mode too (checked before the local services start).
  let config: Config;
  try {
    config = loadConfig(embedded ? embeddedEnv(io.env, EMBEDDED_PLACEHOLDERS) : io.env);
    // The privacy key from Secrets Manager, read once before anything starts (a failure is a configuration error).
    config = await withPrivacyKey(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.problems.map((p) => (p === 'SQS_QUEUE_URL: is required' ? `${p} (NODE_ENV=production: no embedded local services)` : p));
    io.stderr(`canvas-caliper run: ${new ConfigError(problems).message}\n`);
    return 2;
  }
  if (embedded) return runEmbedded(io);
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'canvas-caliper' } });
  const { sqs, kinesis } = createClients({ region: config.AWS_REGION });
  const worker = new Worker({ sqs, kinesis, config, logger });
  return serve(worker, config, logger, io);
}

interface Embedded {
  SQS_QUEUE_URL: string;
  DLQ_URL: string;
}

const EMBEDDED_PLACEHOLDERS: Embedded = { SQS_QUEUE_URL: 'http://127.0.0.1/000000000000/canvas-live-events', DLQ_URL: 'http://127.0.0.1/000000000000/canvas-live-events-dlq' };

/** The embedded run's configuration: the local queues and stream, quick polls, no health port, and the rest of the user's variables. */
const embeddedEnv = (env: NodeJS.ProcessEnv, queues: Embedded): NodeJS.ProcessEnv => ({
  ...env,
  ...queues,
  KINESIS_STREAM_NAME: 'canvas-caliper',
  KINESIS_STREAM_ARN: undefined,
  AWS_REGION: LOCAL_REGION,
  RECEIVE_WAIT_TIME_S: '1',
  HEALTH_PORT: '0',
  LOG_LEVEL: env.LOG_LEVEL || 'warn',
  STATS_INTERVAL_S: '5',
});

/** Why the health port cannot be listened on, and what to set instead; undefined for any other error. */
function healthPortProblem(err: unknown, port: number): string | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  const instead = 'set HEALTH_PORT to a free port (0 turns the health server off)';
  if (code === 'EADDRINUSE') return `HEALTH_PORT ${port} is already in use by another process: ${instead}`;
  if (code === 'EACCES') return `HEALTH_PORT ${port} needs privileges this process does not have (ports below 1024): ${instead}`;
  return undefined;
}

/** Starts the worker, stats and health port, and stops cleanly on the first signal (exit 0), at once on the second. */
async function serve(worker: Worker, config: Config, logger: Logger, io: RunIo, until?: Promise<void>): Promise<number> {
  let health: Server | undefined;
  try {
    health = config.HEALTH_PORT ? await startHealthServer(worker, config.HEALTH_PORT, logger) : undefined;
  } catch (err) {
    const problem = healthPortProblem(err, config.HEALTH_PORT);
    if (!problem) throw err;
    io.stderr(`canvas-caliper run: ${problem}\n`);
    return 2;
  }
  const stopStats = startStats(worker, logger, config.STATS_INTERVAL_S, config.KINESIS_STREAM_NAME ?? config.KINESIS_STREAM_ARN ?? '');
  worker.start();
  logger.info({ queue: config.SQS_QUEUE_URL, stream: config.KINESIS_STREAM_NAME ?? config.KINESIS_STREAM_ARN, dlq: config.DLQ_URL ?? null }, 'worker started');
  let signals = 0;
  const stopped = new Promise<string>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) {
        logger.warn({ signal }, 'second signal: exiting now; unfinished messages stay in SQS');
        process.exit(130);
      }
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    void until?.then(() => resolve('drained'));
  });
  const reason = await stopped;
  logger.info({ reason, inFlight: worker.inFlightCount }, 'stopping: no new messages; finishing those in flight');
  const { unfinished } = await worker.stop();
  stopStats();
  health?.close();
  logger.info({ unfinished, counters: worker.counters }, unfinished ? 'stopped; unfinished messages were made visible again in SQS' : 'stopped; everything in flight was published and acknowledged');
  return 0;
}

/**
 * `npm start` with no SQS_QUEUE_URL: starts local SQS and Kinesis, creates a queue with a DLQ and a
 * stream, enqueues the samples, runs the worker until the queue is drained, reads the stream back,
 * and prints what arrived.
 */
async function runEmbedded(io: RunIo): Promise<number> {
  const local = await import('./local.js');
  const { summarise } = await import('./summary.js');
  io.stdout('No SQS_QUEUE_URL: running on embedded local services (local-aws-sqs, kinesis-local) with the samples.\n');
  const services = await local.startLocalServices();
  try {
    const { queueUrl, dlqUrl } = await local.createQueues(services.sqs, 'canvas-live-events');
    await local.createStream(services.kinesis, 'canvas-caliper');
    const { loadSamples } = await import('../samples.js');
    const samples = loadSamples();
    const bodies = samples.map((raw) => JSON.stringify(raw));
    await local.enqueue(services.sqs, queueUrl, bodies);
    io.stdout(`Enqueued ${bodies.length} sample events on ${queueUrl}\n`);
    const config = await withPrivacyKey(loadConfig(embeddedEnv(io.env, { SQS_QUEUE_URL: queueUrl, DLQ_URL: dlqUrl })));
    const logger = pino({ level: config.LOG_LEVEL, base: { service: 'canvas-caliper' } });
    const worker = new Worker({ sqs: services.sqs, kinesis: services.kinesis, config, logger });
    const drained = (async () => {
      await new Promise((r) => setTimeout(r, 200));
      while ((await local.queueDepth(services.sqs, queueUrl)) > 0 || worker.inFlightCount > 0) await new Promise((r) => setTimeout(r, 200));
    })();
    await serve(worker, config, logger, io, drained);
    const records = await local.readStream(services.kinesis, 'canvas-caliper');
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'canvas-caliper-')), 'caliper.ndjson');
    fs.writeFileSync(out, records.map((r) => `${r}\n`).join(''));
    const sent = config.EVENT_ID === 'deterministic' ? new Map(samples.map((raw) => [deterministicEventId(raw), String(raw.metadata.event_name)])) : undefined;
    io.stdout(summarise(records, await local.queueDepth(services.sqs, dlqUrl), out, worker.counters.skipped, sent));
    return 0;
  } finally {
    await services.stop();
  }
}
