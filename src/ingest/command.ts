// `canvas-caliper serve`: the HTTPS ingest for Canvas's signed live events (the TLS ends at the load
// balancer), enqueuing each verified event in the queue the worker reads.
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError } from '../config.js';
import { createClients, type AwsCalls } from '../worker/clients.js';
import { Faults } from '../worker/faults.js';
import { createLogger, emfWanted, isPretty, ProcessWarnings } from '../worker/log.js';
import { awsFigures, emf } from '../worker/observe.js';
import { loadServeConfig, type ServeConfig } from './config.js';
import { Enqueuer } from './enqueue.js';
import { createIngest, type Ingest } from './server.js';
import { createVerifier, OUTCOMES } from './verify.js';

export interface ServeIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface Serving {
  ingest: Ingest;
  enqueuer: Enqueuer;
  port: number;
  /** Stops as on SIGTERM: no new requests, those in flight finished, the enqueuer drained. */
  stop(): Promise<{ unfinished: number }>;
}

/**
 * Starts the ingest on config.PORT (0: a free port) with this SQS client; resolves once it listens.
 * `calls`: where the client counts what the AWS SDK retried and the attempts cut at their deadline
 * (createClients), for the log and the stats line.
 */
export async function startServe(config: ServeConfig, sqs: SQSClient, logger: Logger, calls?: AwsCalls): Promise<Serving> {
  const faults = new Faults(logger);
  if (calls) calls.onTimeout = (operation, ms) => faults.timedOut(operation, ms);
  const enqueuer = new Enqueuer(sqs, config.SQS_QUEUE_URL, { lingerMs: config.ENQUEUE_LINGER_MS, maxBatchBytes: config.ENQUEUE_BATCH_MAX_BYTES, retryBudgetMs: config.ENQUEUE_RETRY_BUDGET_MS, faults });
  const verify = createVerifier({
    jwksUrl: config.CANVAS_JWKS_URL,
    algorithms: config.CANVAS_JWT_ALGORITHMS,
    clockToleranceS: config.CLOCK_TOLERANCE_S,
    cooldownS: config.JWKS_COOLDOWN_S,
    cacheMaxAgeS: config.JWKS_CACHE_MAX_AGE_S,
    staleMaxAgeS: config.JWKS_STALE_MAX_AGE_S,
    logger,
  });
  const ingest = createIngest({
    verify,
    enqueuer,
    faults,
    logger,
    ingestPath: config.INGEST_PATH,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    unhealthyAfterS: config.UNHEALTHY_AFTER_S,
    keepAliveTimeoutS: config.KEEP_ALIVE_TIMEOUT_S,
  });
  await new Promise<void>((resolve, reject) => {
    ingest.server.once('error', reject);
    ingest.server.listen(config.PORT, () => resolve());
  });
  const port = (ingest.server.address() as AddressInfo).port;
  // Not fatal: the JWKS may come back before Canvas posts (refused with 503 meanwhile, and Canvas retries). The reader logs why.
  await verify.warm().catch(() => {});
  const stopStats = startIngestStats(ingest, faults, logger, config.STATS_INTERVAL_S, emfWanted(config.METRICS, isPretty(config.LOG_FORMAT)), calls);
  logger.info({ port, path: config.INGEST_PATH, queue: config.SQS_QUEUE_URL, jwks: config.CANVAS_JWKS_URL, algorithms: config.CANVAS_JWT_ALGORITHMS }, 'serve listening');
  return {
    ingest,
    enqueuer,
    port,
    async stop() {
      const deadline = Date.now() + config.SHUTDOWN_TIMEOUT_MS;
      const { unfinished } = await ingest.close(config.SHUTDOWN_TIMEOUT_MS);
      // Every request has its answer by now; a call SQS has not answered yet is not waited for past the timeout.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([enqueuer.drain(), new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
      await verify.close();
      stopStats();
      return { unfinished };
    },
  };
}

/** Every STATS_INTERVAL_S a `stats` line: totals per outcome, and (with `withEmf`) the interval's counts as EMF metrics. */
function startIngestStats(ingest: Ingest, faults: Faults, logger: Logger, intervalS: number, withEmf: boolean, calls?: AwsCalls): () => void {
  let last = { ...ingest.counts };
  const name = (outcome: string) => `Ingest_${outcome}`;
  const tick = () => {
    const now = { ...ingest.counts };
    const delta = Object.fromEntries(OUTCOMES.map((k) => [name(k), now[k] - last[k]]));
    last = now;
    const aws = calls && awsFigures(calls);
    const stats = { requests: now, inFlight: ingest.inFlight, errors: { ...faults.counts }, ...(aws ? { aws } : {}) };
    if (withEmf) logger.info({ stats, ...emf({ Service: 'serve' }, OUTCOMES.map((k) => ({ name: name(k), unit: 'Count' }))), ...delta }, 'stats');
    else logger.info({ stats }, 'stats');
  };
  const timer = setInterval(tick, intervalS * 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    tick();
  };
}

/** Why the port cannot be listened on; undefined for any other error. */
function portProblem(err: unknown, port: number): string | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return `PORT ${port} is already in use by another process: set PORT to a free port`;
  if (code === 'EACCES') return `PORT ${port} needs privileges this process does not have (ports below 1024): set PORT to 1024 or above`;
  return undefined;
}

/** Runs `serve` until SIGTERM/SIGINT (exit 0 after finishing what is in flight; a second signal exits at once). */
export async function runServe(io: ServeIo): Promise<number> {
  let config: ServeConfig;
  try {
    config = loadServeConfig(io.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(`canvas-caliper serve: ${err.message}\n`);
    return 2;
  }
  const logger = createLogger(config, 'canvas-caliper-serve');
  // Node's warnings (the AWS SDK's Node-version warning, emitted when a client is made) as log lines, once each.
  new ProcessWarnings().logTo(logger);
  const { sqs, kinesis, calls } = createClients({ region: config.AWS_REGION, logger });
  kinesis.destroy();
  let serving: Serving;
  try {
    serving = await startServe(config, sqs, logger, calls);
  } catch (err) {
    const problem = portProblem(err, config.PORT);
    if (!problem) throw err;
    io.stderr(`canvas-caliper serve: ${problem}\n`);
    return 2;
  }
  let signals = 0;
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals) => {
      if (++signals > 1) {
        logger.warn({ signal: s }, 'second signal: exiting now');
        process.exit(130);
      }
      resolve(s);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  logger.info({ signal, inFlight: serving.ingest.inFlight }, 'stopping: no new connections; finishing the requests in flight');
  const { unfinished } = await serving.stop();
  sqs.destroy();
  logger.info({ unfinished, requests: serving.ingest.counts }, unfinished ? 'stopped; requests still unanswered were cut (their senders retry)' : 'stopped; every request was answered');
  return 0;
}
