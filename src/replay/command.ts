// `canvas-caliper replay-dlq`: options checked up front (usage and configuration errors exit 2 before
// anything is touched), then the run, its progress, its summary and its exit code.
import { parseArgs } from 'node:util';
import type { Io } from '../io.js';
import { ConfigError, loadConfig, withPersonMap, withPrivacyKey, type Config } from '../config.js';
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
  -h, --help            show this help

Progress goes to stderr: a progress bar on a terminal, a line every 5 s otherwise. The summary
(moved or published, still failing by reason, each failing message) goes to stdout.

Environment: AWS_REGION (default: the region in the DLQ's URL), the usual AWS credentials, and, for
--direct, the worker's variables for batching, retries, partition key and event ids (see README).

Exit codes: 0 every selected message handled (a dry run: everything read), 1 some still failing (listed)
or the run could not go through the whole DLQ, 2 usage or configuration error, 130 interrupted (Ctrl-C).
`;

const positiveInt = (flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} must be a whole number of at least 1, not '${value}'`);
  return Number(value);
};

function parseRate(value: string | undefined, native: boolean): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(value);
  const rate = m ? Number(m[1]) : NaN;
  if (!(rate > 0)) throw new UsageError(`--rate must be a positive number of messages per second (e.g. 50 or 50/s), not '${value}'`);
  if (native && (!Number.isInteger(rate) || rate > 500)) throw new UsageError(`--native: --rate must be a whole number from 1 to 500 (SQS's limit for a message-move task), not '${value}'`);
  return rate;
}

const isUrl = (v: string) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol);

/** sqs.<region>.amazonaws.com[.cn] */
const regionOf = (queueUrl: string) => /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(new URL(queueUrl).hostname)?.[1];

export async function replayCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
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
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(REPLAY_HELP);
    return 0;
  }
  const env = io.env ?? process.env;
  if (values.direct && values.native) throw new UsageError('choose one mode: --to-source, --direct or --native');
  if (values.direct && values['to-source']) throw new UsageError('--direct publishes to Kinesis; it takes no --to-source');
  const mode: ReplayMode = values.direct ? 'direct' : values.native ? 'native' : 'to-source';
  const dlqUrl = values.dlq ?? env.DLQ_URL;
  if (!dlqUrl) throw new UsageError('--dlq URL is required (or set DLQ_URL)');
  if (!isUrl(dlqUrl)) throw new UsageError(`--dlq must be a queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), not '${dlqUrl}'`);
  const sourceUrl = mode === 'direct' ? undefined : values['to-source'] ?? (env.SQS_QUEUE_URL || undefined);
  if (mode === 'to-source' && !sourceUrl) throw new UsageError('--to-source URL is required (or set SQS_QUEUE_URL), or choose --direct or --native');
  if (sourceUrl && !isUrl(sourceUrl)) throw new UsageError(`--to-source must be a queue URL, not '${sourceUrl}'`);
  if (sourceUrl === dlqUrl) throw new UsageError('the source queue and the DLQ are the same queue');
  if (mode === 'native' && (values['event-name'] || values['error-code'] || values.max)) {
    throw new UsageError("--native moves every message as it is (SQS's message-move task): --event-name, --error-code and --max need --to-source or --direct");
  }
  if (values.stream && mode !== 'direct') throw new UsageError('--stream is for --direct');
  const region = env.AWS_REGION || regionOf(dlqUrl);
  if (!region) throw new UsageError('set AWS_REGION (the DLQ URL does not name a region)');

  let config: Config | undefined;
  if (mode === 'direct') {
    const stream = values.stream ? (values.stream.startsWith('arn:') ? { KINESIS_STREAM_ARN: values.stream, KINESIS_STREAM_NAME: undefined } : { KINESIS_STREAM_NAME: values.stream, KINESIS_STREAM_ARN: undefined }) : {};
    try {
      // The worker's own configuration, with the DLQ as the queue it reads.
      config = await withPersonMap(await withPrivacyKey(loadConfig({ ...env, ...stream, SQS_QUEUE_URL: dlqUrl, AWS_REGION: region })));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.stderr(`canvas-caliper replay-dlq: ${err.message}\n`);
      return 2;
    }
    if (values.stream && config.SINK !== 'kinesis') throw new UsageError('--stream is for SINK=kinesis');
  }
  const options: ReplayOptions = {
    dlqUrl,
    mode,
    sourceUrl,
    config,
    eventNames: values['event-name'],
    errorCodes: values['error-code'],
    max: positiveInt('--max', values.max),
    rate: parseRate(values.rate, mode === 'native'),
    dryRun: values['dry-run'],
    concurrency: positiveInt('--concurrency', values.concurrency),
    visibilityTimeoutS: positiveInt('--visibility-timeout', values['visibility-timeout']),
    receiveWaitS: values['receive-wait'] === '0' ? 0 : positiveInt('--receive-wait', values['receive-wait']),
  };
  if ((options.receiveWaitS ?? 0) > 20) throw new UsageError('--receive-wait must be at most 20 (SQS long-poll limit)');
  if ((options.visibilityTimeoutS ?? 0) > 43_200) throw new UsageError('--visibility-timeout must be at most 43200 (12 hours)');

  const { sqs, kinesis } = createClients({ region });
  let sink: SinkFactory | undefined;
  try {
    if (config && !values['dry-run']) sink = await configuredSink(config, { kinesis });
  } catch (err) {
    if (!(err instanceof SinkSetupError)) throw err;
    io.stderr(`canvas-caliper replay-dlq: ${err.message}\n`);
    return 2;
  }
  try {
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
  } finally {
    sqs.destroy();
    kinesis.destroy();
  }
}
