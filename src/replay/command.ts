// `canvas-caliper replay-dlq`: options checked up front (usage and configuration errors exit 2 before
// anything is touched), then the run, its progress, its summary and its exit code.
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { parseOptions } from '../args.js';
import type { Io } from '../io.js';
import { ConfigError, loadConfig, withPersonMap, withPrivacyKey } from '../config.js';
import { UsageError } from '../errors.js';
import { createClients } from '../worker/clients.js';
import { formatSummary, startProgress } from './report.js';
import { queueArn } from '../worker/sqs.js';
import { replayDlq, type ReplayMode, type ReplayOptions } from './replay.js';
import { configuredSink, SinkSetupError, type SinkFactory } from '../worker/sink.js';

export const REPLAY_HELP = `Usage: canvas-caliper replay-dlq [--dlq URL] [--to-source URL | --direct | --native] [options]

Gets the messages parked in a dead-letter queue back into the pipeline. A message leaves the DLQ only
after its new copy was accepted (by the source queue, by the sink, or by the DLQ with a new reason), so
an interruption at any point loses nothing; at worst a message is moved twice, and its deterministic
event id makes the two records identical.

Modes (one of them; default --to-source):
  --to-source URL       send each message back to this queue (default $SQS_QUEUE_URL) with its body and
                        its original attributes (the worker's error_* attributes removed), then delete
                        it from the DLQ; the worker then handles it as new
  --direct              map and publish here, like the worker (same validation, batching, retries), to
                        the worker's sink: Kinesis (--stream or $KINESIS_STREAM_NAME / $KINESIS_STREAM_ARN)
                        or, with SINK=caliper-http, the Caliper endpoint $CALIPER_ENDPOINT_URL; delete
                        from the DLQ what the sink accepted; what still fails stays in the DLQ with its
                        updated reason (an event the endpoint refuses: REFUSED_BY_ENDPOINT)
  --native              start SQS's own message-move task (StartMessageMoveTask) towards --to-source URL
                        or $SQS_QUEUE_URL (with neither: each message's original source queue), at
                        --rate, and follow it to completion; SQS moves every message as it is, so no
                        filters or --max; Ctrl-C cancels the task

Options:
  --dlq URL             the dead-letter queue (default $DLQ_URL)
  --stream NAME|ARN     --direct: the Kinesis stream (default $KINESIS_STREAM_NAME or $KINESIS_STREAM_ARN)
  --event-name NAME     only messages with this event_name (repeatable)
  --error-code CODE     only messages with this error_code (repeatable); 'none' selects messages
                        without one (moved to the DLQ by the queue's redrive policy)
  --max N               handle at most N selected messages
  --rate N[/s]          at most N messages per second (--native: a whole number, 1-500)
  --dry-run             change nothing: read every message, print counts per event_name x error_code and
                        what each would become, and make them all visible again at once
  --concurrency N       concurrent receive loops (default 4)
  --visibility-timeout S
                        how long the run keeps a message it read invisible (default 300); messages it
                        does not move are made visible again as soon as it ends
  --receive-wait S      long-poll wait of each receive; the run ends when a receive comes back empty
                        (default 2)
  --json                print the summary as one JSON object instead of text
  --local               try it on embedded local services, as 'npm start' tries the worker: local SQS and
                        kinesis-local on loopback ports, and a DLQ holding 8 messages made from the
                        samples as an incident leaves them (6 valid events: moved there by the redrive
                        policy, or refused by an older release; 2 that no release maps), replayed with
                        the other options; no --dlq, --to-source or --stream (--direct publishes to
                        kinesis-local, whatever SINK says); everything is gone when it ends
  -h, --help            show this help

Progress goes to stderr: a progress bar on a terminal, a line every 5 s otherwise. The summary
(moved or published, still failing by reason, each failing message) goes to stdout.

Environment: AWS_REGION (default: the region in the DLQ's URL), the usual AWS credentials, and, for
--direct, the worker's variables for batching, retries, partition key and event ids
(docs/configuration.md).

Exit codes: 0 every selected message handled (a dry run: everything read), 1 some still failing (listed)
or the run could not go through the whole DLQ, 2 usage or configuration error, 130 interrupted (Ctrl-C).
`;

/** Each check adds what is wrong to `problems` (every problem is reported at once) and returns the value, if any. */
type Problems = string[];

const positiveInt = (problems: Problems, flag: string, value: string | undefined, max?: { limit: number; why: string }): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) return void problems.push(`${flag} must be a whole number of at least 1, not '${value}'`);
  if (max && Number(value) > max.limit) return void problems.push(`${flag} must be at most ${max.limit} (${max.why}), not '${value}'`);
  return Number(value);
};

function parseRate(problems: Problems, value: string | undefined, native: boolean): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(value);
  const rate = m ? Number(m[1]) : NaN;
  if (!(rate > 0)) return void problems.push(`--rate must be a positive number of messages per second (e.g. 50 or 50/s), not '${value}'`);
  if (native && (!Number.isInteger(rate) || rate > 500)) return void problems.push(`--native: --rate must be a whole number from 1 to 500 (SQS's limit for a message-move task), not '${value}'`);
  return rate;
}

const isUrl = (v: string) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol);

/** sqs.<region>.amazonaws.com[.cn] */
const regionOf = (queueUrl: string) => /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(new URL(queueUrl).hostname)?.[1];

export async function replayCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseOptions({
    args: argv,
    options: {
      dlq: { type: 'string' },
      'to-source': { type: 'string' },
      direct: { type: 'boolean' },
      native: { type: 'boolean' },
      stream: { type: 'string' },
      'event-name': { type: 'string', multiple: true },
      'error-code': { type: 'string', multiple: true },
      max: { type: 'string' },
      rate: { type: 'string' },
      'dry-run': { type: 'boolean' },
      concurrency: { type: 'string' },
      'visibility-timeout': { type: 'string' },
      'receive-wait': { type: 'string' },
      json: { type: 'boolean' },
      local: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(REPLAY_HELP);
    return 0;
  }
  // Every problem with the options is found before any is reported (exit 2, one line each), as `run` does with its variables.
  const problems: Problems = [];
  // --local: the options are checked against stand-ins for the local queues and stream, made once they are good.
  const local = values.local ? await import('./local.js') : undefined;
  if (local && (values.dlq || values['to-source'] || values.stream)) problems.push('--local makes its own DLQ, source queue and stream: leave out --dlq, --to-source and --stream');
  const env = local ? { ...(io.env ?? process.env), ...local.LOCAL_PLACEHOLDERS } : (io.env ?? process.env);
  if (values.direct && values.native) problems.push('choose one mode: --to-source, --direct or --native');
  if (values.direct && values['to-source']) problems.push('--direct publishes to Kinesis; it takes no --to-source');
  const mode: ReplayMode = values.direct ? 'direct' : values.native ? 'native' : 'to-source';
  const dlqUrl = values.dlq ?? env.DLQ_URL;
  if (!dlqUrl) problems.push('--dlq URL is required (or set DLQ_URL)');
  else if (!isUrl(dlqUrl)) problems.push(`--dlq must be a queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), not '${dlqUrl}'`);
  const sourceUrl = mode === 'direct' ? undefined : values['to-source'] ?? (env.SQS_QUEUE_URL || undefined);
  if (mode === 'to-source' && !sourceUrl) problems.push('--to-source URL is required (or set SQS_QUEUE_URL), or choose --direct or --native');
  if (sourceUrl && !isUrl(sourceUrl)) problems.push(`--to-source must be a queue URL, not '${sourceUrl}'`);
  if (sourceUrl && sourceUrl === dlqUrl) problems.push('the source queue and the DLQ are the same queue');
  if (mode === 'native' && (values['event-name'] || values['error-code'] || values.max)) {
    problems.push("--native moves every message as it is (SQS's message-move task): --event-name, --error-code and --max need --to-source or --direct");
  }
  if (values.stream && mode !== 'direct') problems.push('--stream is for --direct');
  const region = env.AWS_REGION || (dlqUrl && isUrl(dlqUrl) ? regionOf(dlqUrl) : undefined);
  if (dlqUrl && isUrl(dlqUrl) && !region) problems.push('set AWS_REGION (the DLQ URL does not name a region)');
  const options: ReplayOptions = {
    dlqUrl: dlqUrl ?? '',
    mode,
    sourceUrl,
    eventNames: values['event-name'],
    errorCodes: values['error-code'],
    max: positiveInt(problems, '--max', values.max),
    rate: parseRate(problems, values.rate, mode === 'native'),
    dryRun: values['dry-run'],
    concurrency: positiveInt(problems, '--concurrency', values.concurrency),
    visibilityTimeoutS: positiveInt(problems, '--visibility-timeout', values['visibility-timeout'], { limit: 43_200, why: '12 hours' }),
    receiveWaitS: values['receive-wait'] === '0' ? 0 : positiveInt(problems, '--receive-wait', values['receive-wait'], { limit: 20, why: 'SQS long-poll limit' }),
  };
  // The worker's configuration is checked once the DLQ it would read is a good URL (else its SQS_QUEUE_URL problem repeats --dlq's).
  if (mode === 'direct' && dlqUrl && isUrl(dlqUrl) && region) {
    const stream = values.stream ? (values.stream.startsWith('arn:') ? { KINESIS_STREAM_ARN: values.stream, KINESIS_STREAM_NAME: undefined } : { KINESIS_STREAM_NAME: values.stream, KINESIS_STREAM_ARN: undefined }) : {};
    try {
      // The worker's own configuration, with the DLQ as the queue it reads.
      options.config = await withPersonMap(await withPrivacyKey(loadConfig({ ...env, ...stream, SQS_QUEUE_URL: dlqUrl, AWS_REGION: region })));
      if (values.stream && options.config.SINK !== 'kinesis') problems.push('--stream is for SINK=kinesis');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length) throw new UsageError(problems);
  if (local) return replayLocally(local, options, values, io);
  const clients = createClients({ region: region! });
  try {
    return await replay(options, values, io, clients);
  } finally {
    clients.sqs.destroy();
    clients.kinesis.destroy();
  }
}

/** --local: the options replayed on the embedded services' DLQ, then where everything is. */
async function replayLocally(local: typeof import('./local.js'), options: ReplayOptions, values: { 'dry-run'?: boolean; json?: boolean }, io: Io): Promise<number> {
  let incident;
  try {
    incident = await local.startLocalIncident();
  } catch (err) {
    // A production install has no local services (they are development dependencies).
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' && (err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    await io.stderr('canvas-caliper replay-dlq: --local needs the development dependencies (local-aws-sqs, kinesis-local): run it from a checkout after npm ci\n');
    return 2;
  }
  try {
    const { dlqUrl, queueUrl, services } = incident;
    await io.stderr(`replay-dlq --local: local SQS and kinesis-local started; ${incident.parked} messages parked in ${dlqUrl}, as an incident leaves them\n`);
    const here: ReplayOptions = { ...options, dlqUrl, sourceUrl: options.mode === 'direct' ? undefined : queueUrl, config: options.config && { ...options.config, SQS_QUEUE_URL: dlqUrl } };
    const code = await replay(here, values, io, services);
    await io.stderr(`replay-dlq --local: now ${await incident.describe()}\n`);
    return code;
  } finally {
    await incident.services.stop();
  }
}

/** The run itself, once every option is known to be good: both queues reachable first, then the replay, its progress and summary. */
async function replay(options: ReplayOptions, values: { 'dry-run'?: boolean; json?: boolean }, io: Io, clients: { sqs: SQSClient; kinesis: KinesisClient }): Promise<number> {
  const { dlqUrl, sourceUrl, config } = options;
  const { sqs, kinesis } = clients;
  let sink: SinkFactory | undefined;
  try {
    if (config && !values['dry-run']) sink = await configuredSink(config, { kinesis });
  } catch (err) {
    if (!(err instanceof SinkSetupError)) throw err;
    io.stderr(`canvas-caliper replay-dlq: ${err.message}\n`);
    return 2;
  }
  // Both queues must be reachable before anything moves: a wrong URL or missing permission is a configuration error.
  for (const [what, url] of [['DLQ', dlqUrl], ['source queue', sourceUrl]] as const) {
    if (!url) continue;
    try {
      await queueArn(sqs, url);
    } catch (err) {
      io.stderr(`canvas-caliper replay-dlq: cannot use the ${what} ${url}: ${(err as Error).name}: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(130);
    io.stderr('\nreplay-dlq: stopping: finishing the messages being moved, then making the rest visible again (again to quit at once)\n');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = startProgress({ write: io.stderr, isTTY: Boolean(io.stderrIsTTY) });
  try {
    const summary = await replayDlq(options, { sqs, kinesis, sink, signal: abort.signal, onProgress: progress.update });
    progress.stop();
    io.stdout(values.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    if (summary.interrupted) return 130;
    return summary.stillFailing.length || summary.incomplete ? 1 : 0;
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
