// How run and serve log (issue 26, item 16; Node's warnings: item 12): ISO times, the compact form on a
// terminal, EMF only where CloudWatch reads it, a short stats line without it, Node's warnings once each
// as log lines; and the variables that choose (LOG_FORMAT, METRICS, AWS_CALL_TIMEOUT_MS).
import { SQSClient } from '@aws-sdk/client-sqs';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { awsCallTimeoutMs, ConfigError, loadConfig } from '../src/config.js';
import { loadServeConfig } from '../src/ingest/config.js';
import { createLogger, emfWanted, isPretty, prettyLine, ProcessWarnings } from '../src/worker/log.js';
import { startStats } from '../src/worker/observe.js';
import { Worker } from '../src/worker/worker.js';
import { userEvent } from './helpers.js';

const BASE = { SQS_QUEUE_URL: 'http://localhost:9324/000000000000/canvas', KINESIS_STREAM_NAME: 'caliper', AWS_REGION: 'us-east-1' };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const problems = (env: Record<string, string>, load: (env: NodeJS.ProcessEnv) => unknown = loadConfig) => {
  try {
    load(env);
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
};

describe('log lines', () => {
  it('JSON with an ISO time (UTC, milliseconds), the service and the level as pino writes it', () => {
    const lines: string[] = [];
    createLogger({ LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, 'canvas-caliper', { write: (l: string) => void lines.push(l) }).warn({ operation: 'PutRecords' }, 'PutRecords failed');
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 40, service: 'canvas-caliper', operation: 'PutRecords', msg: 'PutRecords failed' });
    expect(line.time).toMatch(ISO);
    expect(Math.abs(Date.parse(line.time) - Date.now())).toBeLessThan(5_000);
  });

  it('LOG_FORMAT=pretty: one compact line per entry, the time of day, the level, the message and the other fields; an error without its stack', () => {
    const lines: string[] = [];
    const logger = createLogger({ LOG_LEVEL: 'debug', LOG_FORMAT: 'pretty' }, 'canvas-caliper', { write: (l: string) => void lines.push(l) });
    logger.warn({ operation: 'PutRecords', kind: 'network', error: 'TimeoutError: no answer within 5000 ms' }, 'PutRecords failed (network)');
    logger.error({ err: new TypeError('boom'), messageId: 'm-1' }, 'unexpected error');
    logger.info({ stats: { received: 3, errors: { network: 0 } } }, 'stats');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN  PutRecords failed \(network\)  operation=PutRecords kind=network error="TimeoutError: no answer within 5000 ms"\n$/);
    expect(lines[1]).toMatch(/^\S+ ERROR unexpected error  err="TypeError: boom" messageId=m-1\n$/);
    expect(lines[1]).not.toContain('at ');
    expect(lines[2]).toMatch(/^\S+ INFO  stats  stats=\{"received":3,"errors":\{"network":0\}\}\n$/);
    expect(prettyLine('not json\n')).toBe('not json\n');
  });

  it('auto is the compact form on a terminal only; EMF where CloudWatch reads it: METRICS=emf, or auto in ECS with JSON logs', () => {
    expect([isPretty('auto', true), isPretty('auto', false), isPretty('json', true), isPretty('pretty', false)]).toEqual([true, false, false, true]);
    const ecs = { ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc' };
    expect([
      emfWanted('auto', false, ecs),
      emfWanted('auto', true, ecs),
      emfWanted('auto', false, {}),
      emfWanted('emf', true, {}),
      emfWanted('none', false, ecs),
    ]).toEqual([true, false, false, true, false]);
  });
});

describe('the stats line', () => {
  /** The line a worker logs when, after its stats started, the SDK retried a call twice, an attempt was cut, and an unknown field came. */
  const statsLine = (withEmf: boolean) => {
    const w = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), kinesis: new KinesisClient({ region: 'us-east-1' }), config: loadConfig(BASE), logger: pino({ level: 'silent' }) });
    const lines: Record<string, unknown>[] = [];
    const stop = startStats(w, pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) }), 3600, 'caliper', 'Stream', withEmf);
    w.awsCalls.finished('PutRecords', { attempts: 3, totalRetryDelay: 240 });
    w.awsCalls.timedOut('ReceiveMessage', 25_000);
    w.unknowns.see('wiki_page_updated', userEvent('wiki_page_updated', { wiki_page_id: '1', title: 'T', brand_new: 1 }));
    stop();
    return lines[0]!;
  };

  it('without EMF: the totals, errors, what the SDK retried and the unknown fields, well under 1 KB', () => {
    const line = statsLine(false);
    expect(line._aws).toBeUndefined();
    expect(line.stats).toMatchObject({
      received: 0,
      errors: { credentials: 0, network: 0, throttled: 0, other: 0 },
      aws: { PutRecords: { retries: 2, retryDelayMs: 240, timeouts: 0 }, ReceiveMessage: { retries: 0, retryDelayMs: 0, timeouts: 1 } },
      unknown: { types: 0, fields: 1, seen: 1, overflow: 0 },
    });
    expect(JSON.stringify(line).length).toBeLessThan(600);
  });

  it('with EMF: the same, and the interval’s counts as metrics, the SDK’s retries and timeouts among them', () => {
    const line = statsLine(true);
    expect((line._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0]!.Metrics.map((m) => m.Name)).toContain('AwsTimeouts');
    expect(line).toMatchObject({ Stream: 'caliper', AwsRetries: 2, AwsTimeouts: 1 });
  });
});

describe('Node’s process warnings', () => {
  let warnings: ProcessWarnings | undefined;
  afterEach(() => warnings?.restore());
  const tick = () => new Promise((r) => setImmediate(r));

  it('held until the logger exists, then one JSON line per distinct warning, its text on one line; Node’s handler back afterwards, with none lost', async () => {
    const node = process.listeners('warning');
    warnings = new ProcessWarnings();
    expect(process.listeners('warning')).toHaveLength(1);
    process.emitWarning('The AWS SDK for JavaScript (v3)\nversions published after …\nwill require node >=22.', 'NodeVersionSupportWarning');
    await tick();
    const lines: Record<string, unknown>[] = [];
    warnings.logTo(pino({ level: 'info', base: undefined, timestamp: false }, { write: (l: string) => void lines.push(JSON.parse(l)) }));
    process.emitWarning('The AWS SDK for JavaScript (v3)\nversions published after …\nwill require node >=22.', 'NodeVersionSupportWarning');
    process.emitWarning('another', { type: 'DeprecationWarning', code: 'DEP0999' });
    await tick();
    // On Node 20 the AWS SDK's own Node-version warning (made by a client of another test) may come too.
    expect(lines.filter((l) => !String(l.msg).includes('a.co/c895JFp'))).toEqual([
      { level: 40, source: 'node', warning: 'NodeVersionSupportWarning', msg: 'NodeVersionSupportWarning: The AWS SDK for JavaScript (v3) versions published after … will require node >=22.' },
      { level: 40, source: 'node', warning: 'DeprecationWarning', code: 'DEP0999', msg: 'DeprecationWarning: another' },
    ]);
    warnings.restore();
    warnings = undefined;
    expect(process.listeners('warning')).toEqual(node);
  });

  it('restore before any logger: the held warnings go to Node’s own handler', async () => {
    const seen: string[] = [];
    const before = (w: Error) => seen.push(w.message);
    process.on('warning', before);
    warnings = new ProcessWarnings();
    process.emitWarning('held');
    await tick();
    expect(seen).toEqual([]);
    warnings.restore();
    warnings = undefined;
    expect(seen).toEqual(['held']);
    process.off('warning', before);
  });
});

describe('configuration', () => {
  it('LOG_FORMAT and METRICS: auto by default, for the worker and serve; a bad value named', () => {
    expect(loadConfig(BASE)).toMatchObject({ LOG_FORMAT: 'auto', METRICS: 'auto' });
    expect(problems({ ...BASE, LOG_FORMAT: 'text', METRICS: 'cloudwatch' })).toEqual(['LOG_FORMAT must be auto, json or pretty', 'METRICS must be auto, emf or none']);
    const serve = { SQS_QUEUE_URL: BASE.SQS_QUEUE_URL, AWS_REGION: 'us-east-1', CANVAS_JWKS_URL: 'https://sso.canvaslms.com/api/lti/security/jwks' };
    expect(loadServeConfig({ ...serve, LOG_FORMAT: 'pretty', METRICS: 'emf' })).toMatchObject({ LOG_FORMAT: 'pretty', METRICS: 'emf' });
    expect(problems({ ...serve, LOG_FORMAT: 'xml' }, loadServeConfig)).toEqual(['LOG_FORMAT must be auto, json or pretty']);
  });

  it('AWS_CALL_TIMEOUT_MS: 5 s, or RETRY_BUDGET_MS when that is less; set, one attempt must fit in the budget', () => {
    expect(awsCallTimeoutMs(loadConfig(BASE))).toBe(5_000);
    expect(awsCallTimeoutMs(loadConfig({ ...BASE, RETRY_BUDGET_MS: '2000' }))).toBe(2_000);
    expect(awsCallTimeoutMs(loadConfig({ ...BASE, AWS_CALL_TIMEOUT_MS: '60000' }))).toBe(60_000);
    expect(problems({ ...BASE, AWS_CALL_TIMEOUT_MS: '60001' })).toEqual([
      'AWS_CALL_TIMEOUT_MS (60001) must be at most RETRY_BUDGET_MS (60000): one attempt of an AWS call must fit in the retry budget',
    ]);
    expect(problems({ ...BASE, AWS_CALL_TIMEOUT_MS: '50' })).toEqual(['AWS_CALL_TIMEOUT_MS must be at least 100']);
    expect(problems({ ...BASE, AWS_CALL_TIMEOUT_MS: 'soon' })).toEqual(['AWS_CALL_TIMEOUT_MS must be a number']);
  });
});
