// `canvas-caliper run`: the long-running worker (what `npm start` and the container run).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { createLogger, emfWanted, isPretty, prettyLine, ProcessWarnings } from './log.js';
import { awsCallTimeoutMs, ConfigError, loadConfig, withPersonMap, withPrivacyKey, type Config } from '../config.js';
import { deterministicEventId } from '../engine.js';
import { createClients } from './clients.js';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { LOCAL_REGION, type LocalSqs } from './local.js';
import { startHealthServer, startStats } from './observe.js';
import type { Operation } from './faults.js';
import { configuredSink, destinationOf, SinkSetupError, type SinkFactory } from './sink.js';
import { Worker } from './worker.js';

export interface RunIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface RunOptions {
  /** The embedded run's delivery: samples sent to the queue (sqs), or posted as signed JWTs to `serve` (https). */
  ingest?: 'sqs' | 'https';
  /** The embedded run: where to write every envelope read back (one per line); none is kept otherwise. */
  output?: string;
}

/** Runs the worker until SIGTERM/SIGINT; returns the exit code. */
export async function runWorker(io: RunIo, options: RunOptions = {}): Promise<number> {
  // Node's warnings (the AWS SDK's among them, emitted when a client is made) go to the logger once it exists.
  const warnings = new ProcessWarnings();
  try {
    return await runWith(io, options, warnings);
  } finally {
    warnings.restore();
  }
}

async function runWith(io: RunIo, options: RunOptions, warnings: ProcessWarnings): Promise<number> {
  const embedded = !io.env.SQS_QUEUE_URL && io.env.NODE_ENV !== 'production';
  if (options.ingest === 'https' && !embedded) {
    io.stderr(`canvas-caliper run: --ingest applies to the embedded run (no SQS_QUEUE_URL, NODE_ENV not production); deployed, run 'canvas-caliper serve' beside the worker\n`);
    return 2;
  }
  if (options.output !== undefined) {
    const problem = !embedded ? 'applies to the embedded run (no SQS_QUEUE_URL, NODE_ENV not production)' : unwritable(options.output);
    if (problem) {
      io.stderr(`canvas-caliper run: --output ${options.output}: ${problem}\n`);
      return 2;
    }
  }
  // Every problem at once, in embedded mode too (checked before the local services start).
  let config: Config;
  try {
    const placeholders = wantsLocalEndpoint(io.env) ? { ...EMBEDDED_PLACEHOLDERS, ...localEndpointEnv(io.env, 'http://127.0.0.1', 'local') } : EMBEDDED_PLACEHOLDERS;
    config = loadConfig(embedded ? embeddedEnv(io.env, placeholders) : io.env);
    // The privacy key from Secrets Manager and PERSON_ID_MAP, read once before anything starts (a failure is a configuration error).
    config = await withPersonMap(await withPrivacyKey(config));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.problems.map((p) => (p === 'SQS_QUEUE_URL: is required' ? `${p} (NODE_ENV=production: no embedded local services)` : p));
    io.stderr(`canvas-caliper run: ${new ConfigError(problems).message}\n`);
    return 2;
  }
  if (io.env.CALIPER_ENDPOINT_URL && config.SINK !== 'caliper-http') io.stderr(`canvas-caliper run: CALIPER_ENDPOINT_URL is set but SINK is ${config.SINK}: it is not used (set SINK=caliper-http to publish to it)\n`);
  if (embedded) return runEmbedded(io, options.ingest ?? 'sqs', options.output, config, warnings);
  const logger = createLogger(config, 'canvas-caliper');
  warnings.logTo(logger);
  const { sqs, kinesis, calls } = createClients({ region: config.AWS_REGION, callTimeoutMs: awsCallTimeoutMs(config), logger });
  let sink: SinkFactory;
  try {
    sink = await configuredSink(config, { kinesis });
  } catch (err) {
    if (!(err instanceof SinkSetupError)) throw err;
    io.stderr(`canvas-caliper run: ${err.message}\n`);
    return 2;
  }
  const worker = new Worker({ sqs, sink, config, logger, awsCalls: calls });
  return serve(worker, config, logger, io, emfWanted(config.METRICS, isPretty(config.LOG_FORMAT)));
}

interface Embedded {
  SQS_QUEUE_URL: string;
  DLQ_URL: string;
  /** SINK=caliper-http with no CALIPER_ENDPOINT_URL: the local endpoint's URL and token (or OAuth client). */
  CALIPER_ENDPOINT_URL?: string;
  CALIPER_ENDPOINT_TOKEN?: string;
  CALIPER_ENDPOINT_TOKEN_URL?: string;
  CALIPER_ENDPOINT_CLIENT_ID?: string;
  CALIPER_ENDPOINT_CLIENT_SECRET?: string;
}

/** LOCAL_ENDPOINT_AUTH=oauth: the local endpoint's one OAuth 2.0 client, and how long its tokens live (seconds: a run may outlive one). */
const LOCAL_CLIENT_ID = 'canvas-caliper-demo';
const LOCAL_TOKEN_LIFETIME_S = 2;

/** How the worker reaches the local endpoint at `origin`: with `secret` as its bearer token, or (LOCAL_ENDPOINT_AUTH=oauth) as its OAuth client's secret. */
const localEndpointEnv = (env: NodeJS.ProcessEnv, origin: string, secret: string): Partial<Embedded> =>
  env.LOCAL_ENDPOINT_AUTH === 'oauth'
    ? { CALIPER_ENDPOINT_URL: `${origin}/caliper`, CALIPER_ENDPOINT_TOKEN_URL: `${origin}/token`, CALIPER_ENDPOINT_CLIENT_ID: LOCAL_CLIENT_ID, CALIPER_ENDPOINT_CLIENT_SECRET: secret }
    : { CALIPER_ENDPOINT_URL: `${origin}/caliper`, CALIPER_ENDPOINT_TOKEN: secret };

const EMBEDDED_PLACEHOLDERS: Embedded = { SQS_QUEUE_URL: 'http://127.0.0.1/000000000000/canvas-live-events', DLQ_URL: 'http://127.0.0.1/000000000000/canvas-live-events-dlq' };

/** SINK=caliper-http and no endpoint of the user's: the embedded run starts one of its own. */
const wantsLocalEndpoint = (env: NodeJS.ProcessEnv): boolean => env.SINK === 'caliper-http' && !env.CALIPER_ENDPOINT_URL;

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
  // A demo that cannot deliver ends soon (embeddedFailure): its stop need not wait long for what is in flight.
  SHUTDOWN_TIMEOUT_MS: env.SHUTDOWN_TIMEOUT_MS || '5000',
});

/** The embedded run gives up on a destination that has failed this long with no success (or for RETRY_BUDGET_MS, if shorter). */
const EMBEDDED_GIVE_UP_MS = 15_000;

/** What to check when a call keeps failing in the embedded run. */
const CHECK: Partial<Record<Operation, string>> = {
  PostEnvelope: 'check CALIPER_ENDPOINT_URL and that the endpoint is up',
  TokenRequest: 'check CALIPER_ENDPOINT_TOKEN_URL and that the token endpoint is up',
};

/** Why the embedded run cannot finish (the sink is blocked, or its destination has failed for EMBEDDED_GIVE_UP_MS), or undefined while it can. */
function embeddedFailure(worker: Worker, destination: string): string | undefined {
  if (worker.blocked) return `nothing more is sent to ${destination}: ${worker.blocked}`;
  const failing = worker.faults.failingLongerThan(Math.min(EMBEDDED_GIVE_UP_MS, worker.config.RETRY_BUDGET_MS), ['TokenRequest', 'PostEnvelope']);
  return failing && `${failing.operation === 'TokenRequest' ? 'the token endpoint' : destination} has failed for ${Math.round((Date.now() - failing.since) / 1000)} s with no success (last: ${failing.error}): ${CHECK[failing.operation]}`;
}

/** Why a file cannot be written where --output names it (checked before anything starts), or undefined. */
function unwritable(file: string): string | undefined {
  const dir = path.dirname(path.resolve(file));
  try {
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) return 'is a folder: name a file';
    fs.accessSync(fs.existsSync(file) ? file : dir, fs.constants.W_OK);
    return undefined;
  } catch (err) {
    return `cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message} on ${fs.existsSync(file) ? file : dir})`;
  }
}

/** Why the health port cannot be listened on, and what to set instead; undefined for any other error. */
function healthPortProblem(err: unknown, port: number): string | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  const instead = 'set HEALTH_PORT to a free port (0 turns the health server off)';
  if (code === 'EADDRINUSE') return `HEALTH_PORT ${port} is already in use by another process: ${instead}`;
  if (code === 'EACCES') return `HEALTH_PORT ${port} needs privileges this process does not have (ports below 1024): ${instead}`;
  return undefined;
}

/**
 * Starts the worker, stats and health port, and stops cleanly on the first signal (or once `until`
 * resolves; exit 0), at once on the second. `emf`: the stats line carries CloudWatch EMF metrics.
 */
async function serve(worker: Worker, config: Config, logger: Logger, io: RunIo, emf: boolean, until?: Promise<void>): Promise<number> {
  let health: Server | undefined;
  try {
    health = config.HEALTH_PORT ? await startHealthServer(worker, config.HEALTH_PORT, logger) : undefined;
  } catch (err) {
    const problem = healthPortProblem(err, config.HEALTH_PORT);
    if (!problem) throw err;
    io.stderr(`canvas-caliper run: ${problem}\n`);
    return 2;
  }
  const destination = destinationOf(config);
  const stopStats = startStats(worker, logger, config.STATS_INTERVAL_S, destination.name, destination.dimension, emf);
  // PERSON_ID_MAP is re-read while the worker runs: a new row applies without a restart.
  const stopMap = config.personMap?.start(config.PERSON_ID_MAP_REFRESH_S, logger);
  worker.start();
  logger.info({ queue: config.SQS_QUEUE_URL, sink: config.SINK, [destination.dimension.toLowerCase()]: destination.name, dlq: config.DLQ_URL ?? null }, 'worker started');
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now; unfinished messages stay in SQS');
      process.exit(130);
    }
    stopNow(signal);
  };
  let stopNow: (reason: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (stopNow = resolve));
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  void until?.then(() => stopNow('drained'));
  const reason = await stopped;
  logger.info({ reason, inFlight: worker.inFlightCount }, 'stopping: no new messages; finishing those in flight');
  const { unfinished } = await worker.stop();
  stopMap?.();
  stopStats();
  health?.close();
  // The last line: a signal from here on is Node's again (the process is about to end; nothing is left to finish).
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  // Say what happened to what was in flight: "published" only when nothing was left in SQS or parked.
  const { published, released, sentToDlq } = worker.counters;
  const done = unfinished ? 'unfinished messages were made visible again in SQS' : released || sentToDlq ? `nothing left in flight: ${published} published, ${released} left in SQS to come back, ${sentToDlq} sent to the DLQ` : 'everything in flight was published and acknowledged';
  logger.info({ unfinished, counters: worker.counters }, `stopped; ${done}`);
  return 0;
}

/** Where the embedded run publishes, and how it reads back what arrived. */
interface EmbeddedDestination {
  /** The variables that point the worker at it. */
  env: Partial<Embedded>;
  /** What arrived (one envelope per line), or undefined when it cannot be read back (the user's own endpoint). */
  readBack(): Promise<string[] | undefined>;
  /** A line for the summary (the local endpoint in OAuth mode: the tokens it issued). */
  note?(): string;
  stop(): Promise<void>;
}

/**
 * The embedded run's log: on stderr (stdout holds the human summary alone), in the compact form on a
 * terminal and JSON lines otherwise (LOG_FORMAT as the worker's, judged by stderr), its warnings and
 * errors counted for the summary. No file: the run leaves nothing behind.
 */
function embeddedLog(settings: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT'>) {
  const out = pino.destination({ dest: 2, sync: true });
  const pretty = isPretty(settings.LOG_FORMAT, process.stderr.isTTY === true);
  const problems = { warnings: 0, errors: 0 };
  const destination = {
    write(line: string) {
      const level = Number(/"level":(\d+)/.exec(line)?.[1]);
      if (level === 40) problems.warnings++;
      else if (level >= 50) problems.errors++;
      out.write(pretty ? prettyLine(line) : line);
    },
  };
  const json = { LOG_LEVEL: settings.LOG_LEVEL, LOG_FORMAT: 'json' as const };
  return { worker: createLogger(json, 'canvas-caliper', destination), serve: createLogger(json, 'canvas-caliper-serve', destination), problems };
}

/**
 * `npm start` with no SQS_QUEUE_URL: starts local SQS and the destination (kinesis-local and a
 * stream; with SINK=caliper-http, a local Caliper endpoint that checks token, media type and each
 * event, unless CALIPER_ENDPOINT_URL names one), creates a queue with a DLQ, enqueues the samples,
 * runs the worker until the queue is drained, reads back what arrived, and prints it. The worker's
 * (and `--ingest https`'s serve's) log goes to stderr, never into the summary on stdout.
 */
async function runEmbedded(io: RunIo, ingest: 'sqs' | 'https', output: string | undefined, checked: Config, warnings: ProcessWarnings): Promise<number> {
  const local = await import('./local.js');
  const { summarise } = await import('./summary.js');
  const http = io.env.SINK === 'caliper-http';
  const logs = embeddedLog(checked);
  warnings.logTo(logs.worker);
  io.stdout(`No SQS_QUEUE_URL: running on embedded local services (local-aws-sqs, ${http ? (wantsLocalEndpoint(io.env) ? 'a local Caliper endpoint' : 'your CALIPER_ENDPOINT_URL') : 'kinesis-local'}) with the samples.\n`);
  // A signal while the local services start or the samples are enqueued stops the run as one during it
  // does (the worker stops at once; a second signal exits at once): by default it would kill the process
  // before the `finally` below, leaving kinesis-local running.
  let signals = 0;
  let stopRequested = () => {};
  const signalled = new Promise<void>((resolve) => (stopRequested = resolve));
  const onSignal = () => (++signals > 1 ? process.exit(130) : stopRequested());
  const signalsHandled = (on: boolean) => ['SIGINT', 'SIGTERM'].forEach((s) => (on ? process.on(s, onSignal) : process.off(s, onSignal)));
  signalsHandled(true);
  let services: LocalSqs & { kinesis?: KinesisClient };
  try {
    services = http ? await local.startLocalSqs() : await local.startLocalServices();
  } catch (err) {
    signalsHandled(false);
    throw err;
  }
  const kinesis = services.kinesis;
  let destination: EmbeddedDestination | undefined;
  try {
    if (kinesis) {
      await local.createStream(kinesis, 'canvas-caliper');
      destination = { env: {}, readBack: () => local.readStream(kinesis, 'canvas-caliper'), stop: async () => {} };
    } else if (wantsLocalEndpoint(io.env)) {
      const { startLocalEndpoint } = await import('./local-endpoint.js');
      const secret = randomBytes(24).toString('base64url');
      const oauth = io.env.LOCAL_ENDPOINT_AUTH === 'oauth';
      const endpoint = await startLocalEndpoint(oauth ? { clientId: LOCAL_CLIENT_ID, clientSecret: secret, lifetimeS: LOCAL_TOKEN_LIFETIME_S } : secret, checked.CALIPER_FORMAT);
      const note = () => (oauth ? `OAuth 2.0: the local token endpoint issued ${endpoint.tokensIssued} token(s), each for ${LOCAL_TOKEN_LIFETIME_S} s.\n` : '');
      destination = { env: localEndpointEnv(io.env, new URL(endpoint.url).origin, secret), readBack: async () => endpoint.records, note, stop: endpoint.stop };
    } else destination = { env: {}, readBack: async () => undefined, stop: async () => {} };
    const { queueUrl, dlqUrl } = await local.createQueues(services.sqs, 'canvas-live-events');
    const { loadSamples } = await import('../samples.js');
    const samples = loadSamples();
    const bodies = samples.map((raw) => JSON.stringify(raw));
    if (ingest === 'https') {
      const { postSigned } = await import('../ingest/embedded.js');
      const { accepted, url } = await postSigned(services.sqs, queueUrl, samples, logs.serve);
      io.stdout(`Posted ${bodies.length} sample events as signed JWTs to serve at ${url}: ${accepted} answered 200 (enqueued on ${queueUrl})\n`);
    } else {
      await local.enqueue(services.sqs, queueUrl, bodies);
      io.stdout(`Enqueued ${bodies.length} sample events on ${queueUrl}\n`);
    }
    // The run's own queues and destination; the privacy key and PERSON_ID_MAP as read once before anything started.
    const config: Config = { ...loadConfig(embeddedEnv(io.env, { SQS_QUEUE_URL: queueUrl, DLQ_URL: dlqUrl, ...destination.env })), privacy: checked.privacy, personMap: checked.personMap };
    const logger = logs.worker;
    const sink = await configuredSink(config, { kinesis });
    const worker = new Worker({ sqs: services.sqs, sink, config, logger });
    // Until the queue is drained, or the destination cannot be delivered to (then the run fails).
    let failure: string | undefined;
    const drained = (async () => {
      await new Promise((r) => setTimeout(r, 200));
      while ((await local.queueDepth(services.sqs, queueUrl)) > 0 || worker.inFlightCount > 0) {
        if ((failure = embeddedFailure(worker, `${config.SINK === 'caliper-http' ? 'the Caliper endpoint' : 'the stream'} ${destinationOf(config).name}`))) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    await serve(worker, config, logger, io, config.METRICS === 'emf', Promise.race([drained, signalled]));
    if (failure) {
      io.stderr(`canvas-caliper run: ${failure}\n`);
      return 1;
    }
    const logNote = logs.problems.warnings || logs.problems.errors ? `The worker logged ${logs.problems.warnings} warning(s) and ${logs.problems.errors} error(s) on stderr.\n` : '';
    const records = await destination.readBack();
    const dlqDepth = await local.queueDepth(services.sqs, dlqUrl);
    if (!records) {
      io.stdout(`\nPublished ${worker.counters.published} Caliper events to ${destinationOf(config).name} (not read back: it is your endpoint).\nDead-letter queue: ${dlqDepth} message(s).\n${logNote}`);
      return 0;
    }
    // Written only where asked: a file in a temporary folder of our own would outlive the run (nothing removes it).
    if (output !== undefined) fs.writeFileSync(output, records.map((r) => `${r}\n`).join(''));
    const sent = config.EVENT_ID === 'deterministic' ? new Map(samples.map((raw) => [deterministicEventId(raw), String(raw.metadata.event_name)])) : undefined;
    io.stdout(summarise(records, dlqDepth, output, worker.counters.skipped, sent, http ? 'the local Caliper endpoint' : 'the stream') + (destination.note?.() ?? '') + logNote);
    return 0;
  } finally {
    await destination?.stop();
    await services.stop();
    signalsHandled(false);
  }
}
