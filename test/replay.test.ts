// replay-dlq on real-protocol local services (local-aws-sqs, kinesis-local): every mode, the filters,
// the dry run, an interruption, and a second replay, checked message by message.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetQueueAttributesCommand, SendMessageCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { main, type Io } from '../src/cli.js';
import { loadConfig } from '../src/config.js';
import { deterministicEventId } from '../src/engine.js';
import { MappingError } from '../src/errors.js';
import { distinctEvents, loadSamples } from '../src/samples.js';
import { recordFor } from '../src/worker/decode.js';
import { createQueues, createStream, LOCAL_REGION, queueDepth, startLocalServices, type LocalServices } from '../src/worker/local.js';
import { changeVisibility, sendToDlq } from '../src/worker/sqs.js';
import { Worker } from '../src/worker/worker.js';
import { drainQueue, exited, localEnv, startCli, streamIds, until } from './local.js';

let services: LocalServices;
beforeAll(async () => {
  services = await startLocalServices();
  // The CLI runs in this process for most tests: its AWS clients find the local services here.
  Object.assign(process.env, localEnv(services, { NODE_ENV: 'test' }));
}, 60_000);
afterAll(async () => {
  await services?.stop();
});

const str = (v: string): MessageAttributeValue => ({ DataType: 'String', StringValue: v });

/** Runs `canvas-caliper replay-dlq ARGS` in this process; returns the exit code and what it wrote. */
async function replay(args: string[], vars: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stdin: () => [], env: { ...process.env, ...vars }, stderrIsTTY: false };
  const code = await main(['replay-dlq', '--receive-wait', '1', ...args], io);
  return { code, stdout, stderr };
}

/**
 * Visible and in-flight counts of a queue. local-aws-sqs carries out ChangeMessageVisibility 0 with a
 * zero-millisecond timer, so a message made visible "at once" can still count as in flight for an event-loop
 * turn (CI saw the last batch of 3 so); the counts are read again until nothing is in flight, for at most 2 s —
 * far short of the 300 s a message left hidden by replay-dlq would stay in flight.
 */
async function counts(queueUrl: string) {
  const read = async () => {
    const a = (await services.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes!;
    return { visible: Number(a.ApproximateNumberOfMessages), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible) };
  };
  let c: Awaited<ReturnType<typeof read>> | undefined;
  await until(async () => (c = await read()).inFlight === 0, 2_000).catch(() => undefined);
  return c!;
}

/** Why the worker parks a body today (a real MappingError, not an invented reason). */
function reasonFor(body: string): MappingError {
  try {
    recordFor(body, { eventId: 'deterministic' });
  } catch (err) {
    return err as MappingError;
  }
  throw new Error(`${body} maps`);
}

const POISON = ['{"metadata": {', '[1,2]', JSON.stringify({ metadata: { event_name: 'no_such_event', event_time: '2019-11-01T00:00:00Z' }, body: {} })];

/** One sample of each event type, so that the incident's 10 valid events have 10 different event_names. */
const ONE_PER_TYPE = [...new Map(loadSamples().map((raw) => [raw.metadata.event_name, raw])).values()];

/**
 * A DLQ as an incident leaves it, next to its source queue and a stream:
 * - 6 valid events moved there by the redrive policy (no error attributes; Canvas's own event_name and event_time attributes),
 * - 4 valid events parked by an older release with a reason that no longer holds (INVALID_RAW_EVENT),
 * - 3 poison messages parked by the worker with their real reasons, one of them with an outdated reason.
 */
async function incident(name: string) {
  const { queueUrl, dlqUrl } = await createQueues(services.sqs, name);
  await createStream(services.kinesis, name);
  const raws = distinctEvents(10, name, ONE_PER_TYPE);
  const valid = raws.map((r) => JSON.stringify(r));
  for (const [i, body] of valid.entries()) {
    const raw = raws[i]!;
    const canvasAttributes = { event_name: str(String(raw.metadata.event_name)), event_time: str(String(raw.metadata.event_time)) };
    if (i < 6) await services.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body, MessageAttributes: canvasAttributes }));
    else await sendToDlq(services.sqs, dlqUrl, { MessageId: `old-${i}`, Body: body, MessageAttributes: canvasAttributes, Attributes: { ApproximateReceiveCount: '1' } }, { code: 'INVALID_RAW_EVENT', message: 'body.title: Required (release 0.9)', eventName: String(raw.metadata.event_name) });
  }
  for (const [i, body] of POISON.entries()) {
    const e = reasonFor(body);
    const outdated = i === 2; // parked long ago as MAPPER_ERROR; today it is UNKNOWN_EVENT
    await sendToDlq(services.sqs, dlqUrl, { MessageId: `poison-${i}`, Body: body, Attributes: { ApproximateReceiveCount: '1' } }, outdated ? { code: 'MAPPER_ERROR', message: 'TypeError (release 0.9)' } : { code: e.code, message: e.message, eventName: e.eventName });
  }
  return {
    queueUrl,
    dlqUrl,
    stream: name,
    valid,
    validIds: new Set(raws.map((r) => deterministicEventId(r))),
    eventNames: raws.map((r) => String(r.metadata.event_name)),
  };
}

async function runWorkerUntilEmpty(queueUrl: string, dlqUrl: string, stream: string): Promise<void> {
  const config = loadConfig({ SQS_QUEUE_URL: queueUrl, DLQ_URL: dlqUrl, KINESIS_STREAM_NAME: stream, AWS_REGION: LOCAL_REGION, RECEIVE_WAIT_TIME_S: '1', BATCH_LINGER_MS: '5' });
  const worker = new Worker({ sqs: services.sqs, kinesis: services.kinesis, config, logger: pino({ level: 'silent' }) });
  worker.start();
  await until(async () => (await queueDepth(services.sqs, queueUrl)) === 0 && worker.inFlightCount === 0, 60_000);
  await worker.stop();
}

describe('replay-dlq on local SQS and Kinesis', () => {
  it('--to-source moves every message with its body and original attributes; the worker then publishes the valid ones and parks the poison again', async () => {
    const s = await incident('rp-source');
    const r = await replay(['--dlq', s.dlqUrl, '--to-source', s.queueUrl]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('moved 13 · still failing 0');
    expect(await queueDepth(services.sqs, s.dlqUrl)).toBe(0);

    const moved = await drainQueue(services.sqs, s.queueUrl);
    expect(moved.map((m) => m.body).sort()).toEqual([...s.valid, ...POISON].sort());
    for (const m of moved) {
      expect(Object.keys(m.attributes)).not.toContain('error_code');
      expect(Object.keys(m.attributes)).not.toContain('error_message');
      expect(Object.keys(m.attributes)).not.toContain('original_message_id');
      expect(Object.keys(m.attributes)).not.toContain('receive_count');
    }
    // Canvas's own attributes survive the round trip.
    const valid = moved.filter((m) => s.valid.includes(m.body));
    expect(valid.every((m) => m.attributes.event_name === JSON.parse(m.body).metadata.event_name && m.attributes.event_time)).toBe(true);

    // Visible again, for the worker.
    await changeVisibility(services.sqs, s.queueUrl, moved.map((m) => ({ MessageId: m.id, ReceiptHandle: m.receiptHandle })), 0);
    await runWorkerUntilEmpty(s.queueUrl, s.dlqUrl, s.stream);
    expect(new Set(await streamIds(services, s.stream))).toEqual(s.validIds);
    const parkedAgain = await drainQueue(services.sqs, s.dlqUrl);
    expect(parkedAgain.map((m) => m.body).sort()).toEqual([...POISON].sort());
  }, 120_000);

  it('--direct publishes the valid ones and leaves the poison in the DLQ with their reasons, an outdated reason updated', async () => {
    const s = await incident('rp-direct');
    const r = await replay(['--dlq', s.dlqUrl, '--direct', '--stream', s.stream]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('published 10 · still failing 3');
    expect(r.stdout).toMatch(/INVALID_JSON\s+1/);
    expect(r.stdout).toMatch(/UNKNOWN_EVENT\s+1/);
    expect(r.stdout).toMatch(/NOT_AN_OBJECT\s+1/);
    expect(new Set(await streamIds(services, s.stream))).toEqual(s.validIds);
    const left = await drainQueue(services.sqs, s.dlqUrl);
    expect(left.map((m) => m.body).sort()).toEqual([...POISON].sort());
    const byBody = new Map(left.map((m) => [m.body, m.attributes]));
    for (const body of POISON) {
      const today = reasonFor(body);
      expect(byBody.get(body)).toMatchObject({ error_code: today.code, error_message: today.message });
    }
    // The re-parked one keeps its original id and receive count.
    expect(byBody.get(POISON[2]!)).toMatchObject({ error_code: 'UNKNOWN_EVENT', event_name: 'no_such_event', original_message_id: 'poison-2', receive_count: '1' });
  }, 120_000);

  it('--dry-run changes nothing, counts per event_name × error_code, and says what each would become', async () => {
    const s = await incident('rp-dry');
    for (const mode of [[], ['--direct', '--stream', s.stream]]) {
      const r = await replay(['--dlq', s.dlqUrl, '--to-source', s.queueUrl, '--dry-run', '--json', ...mode].filter((a, i, all) => !(mode.length && (a === '--to-source' || all[i - 1] === '--to-source'))));
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary.scanned).toBe(13);
      expect(summary.incomplete).toBeUndefined();
      expect(summary.groups.reduce((n: number, g: { count: number }) => n + g.count, 0)).toBe(13);
      // failing is what the table says would still fail: the 3 poison messages (issue 26 item 17: it said 0).
      const wouldFail = summary.groups.filter((g: { outcome: string }) => /parks it again|stays in the DLQ/.test(g.outcome)).reduce((n: number, g: { count: number }) => n + g.count, 0);
      expect({ failing: summary.failing, wouldFail, handled: summary.handled }).toEqual({ failing: 3, wouldFail: 3, handled: 0 });
      // Every message is visible again at once, nothing moved, nothing published.
      expect(await counts(s.dlqUrl)).toEqual({ visible: 13, inFlight: 0 });
      expect(await queueDepth(services.sqs, s.queueUrl)).toBe(0);
      expect(await streamIds(services, s.stream)).toEqual([]);
      const group = (eventName: string, errorCode: string) => summary.groups.filter((g: { eventName: string; errorCode: string }) => g.eventName === eventName && g.errorCode === errorCode);
      const direct = mode.length > 0;
      const caliper = recordFor(s.valid[0]!, { eventId: 'deterministic' }).envelope.data[0];
      const becomes = `${caliper.type} ${caliper.action}`;
      expect(group(s.eventNames[0]!, 'none')).toEqual([{ eventName: s.eventNames[0], errorCode: 'none', count: 1, outcome: direct ? `published as ${becomes}` : `to the source queue; the worker publishes ${becomes}` }]);
      expect(group(s.eventNames[6]!, 'INVALID_RAW_EVENT')[0].outcome).toMatch(direct ? /^published as / : /worker publishes/);
      expect(group('no_such_event', 'MAPPER_ERROR')[0].outcome).toBe(direct ? 'stays in the DLQ: UNKNOWN_EVENT' : 'to the source queue; the worker parks it again: UNKNOWN_EVENT');
      expect(group('(unknown)', 'INVALID_JSON')).toHaveLength(1);
    }
    const text = await replay(['--dlq', s.dlqUrl, '--to-source', s.queueUrl, '--dry-run']);
    expect(text.stdout).toMatch(/EVENT_NAME\s+ERROR_CODE\s+COUNT\s+WOULD BECOME/);
    expect(text.stdout).toMatch(new RegExp(`${s.eventNames[6]}\\s+INVALID_RAW_EVENT\\s+1\\s+to the source queue; the worker publishes`));
    expect(text.stdout).toContain('nothing was changed');
    expect(text.stdout).toContain('  would still fail: 3 (the worker would park them again; see WOULD BECOME)\n');
  }, 120_000);

  it('filters select exactly what they name; everything else stays in the DLQ, visible, untouched', async () => {
    const s = await incident('rp-filter');
    const before = new Map((await drainQueue(services.sqs, s.dlqUrl)).map((m) => [m.body, m]));
    await changeVisibility(services.sqs, s.dlqUrl, [...before.values()].map((m) => ({ MessageId: m.id, ReceiptHandle: m.receiptHandle })), 0);

    const names = [s.eventNames[1]!, s.eventNames[7]!];
    const byName = await replay(['--dlq', s.dlqUrl, '--to-source', s.queueUrl, ...names.flatMap((n) => ['--event-name', n])]);
    expect(byName.code).toBe(0);
    let moved = await drainQueue(services.sqs, s.queueUrl);
    expect(moved.map((m) => JSON.parse(m.body).metadata.event_name).sort()).toEqual([...names].sort());
    expect(await counts(s.dlqUrl)).toEqual({ visible: 11, inFlight: 0 });

    const redriven = await replay(['--dlq', s.dlqUrl, '--to-source', s.queueUrl, '--error-code', 'none']);
    expect(redriven.code).toBe(0);
    moved = await drainQueue(services.sqs, s.queueUrl);
    expect(moved.map((m) => m.body).sort()).toEqual(s.valid.slice(0, 6).filter((_, i) => i !== 1).sort());

    const codes = await replay(['--dlq', s.dlqUrl, '--to-source', s.queueUrl, '--error-code', 'INVALID_JSON', '--error-code', 'NOT_AN_OBJECT']);
    moved = await drainQueue(services.sqs, s.queueUrl);
    expect(codes.code).toBe(0);
    expect(moved.map((m) => m.body).sort()).toEqual([POISON[0], POISON[1]].sort());

    const capped = await replay(['--dlq', s.dlqUrl, '--to-source', s.queueUrl, '--max', '2', '--concurrency', '1']);
    expect(capped.code).toBe(0);
    expect(await drainQueue(services.sqs, s.queueUrl)).toHaveLength(2);

    // What is left was never touched: same message ids, same attributes.
    const left = await drainQueue(services.sqs, s.dlqUrl);
    expect(left).toHaveLength(2);
    for (const m of left) {
      expect(m.id).toBe(before.get(m.body)!.id);
      expect(m.attributes).toEqual(before.get(m.body)!.attributes);
    }
  }, 120_000);

  it('--native runs SQS\'s message-move task at --rate and follows it to the end', async () => {
    const s = await incident('rp-native');
    const r = await replay(['--dlq', s.dlqUrl, '--to-source', s.queueUrl, '--native', '--rate', '50']);
    expect(r.stderr).toContain('moved');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("moved by SQS's message-move task: 13");
    expect(await queueDepth(services.sqs, s.dlqUrl)).toBe(0);
    expect((await drainQueue(services.sqs, s.queueUrl)).map((m) => m.body).sort()).toEqual([...s.valid, ...POISON].sort());
  }, 120_000);

  it('interrupted mid-run (Ctrl-C) loses nothing; the next run finishes; replaying twice adds no new ids', async () => {
    const { dlqUrl } = await createQueues(services.sqs, 'rp-interrupt');
    await createStream(services.kinesis, 'rp-interrupt');
    const raws = distinctEvents(60, 'rp-interrupt');
    const ids = new Set(raws.map((r) => deterministicEventId(r)));
    for (const raw of raws) await services.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(raw) }));
    const env = localEnv(services, { DLQ_URL: dlqUrl, KINESIS_STREAM_NAME: 'rp-interrupt', BATCH_LINGER_MS: '5' });

    const first = startCli(['replay-dlq', '--direct', '--rate', '20', '--receive-wait', '1'], env);
    await until(async () => (await streamIds(services, 'rp-interrupt')).length >= 10, 30_000);
    first.kill('SIGINT');
    expect(await exited(first)).toBe(130);
    expect(first.out.stdout).toContain('interrupted');
    // Nothing lost: each event is in the stream or, visible at once, in the DLQ.
    const published = new Set(await streamIds(services, 'rp-interrupt'));
    expect(published.size).toBeLessThan(60);
    expect(await counts(dlqUrl)).toMatchObject({ inFlight: 0 });
    const parked = await drainQueue(services.sqs, dlqUrl);
    const waiting = parked.map((m) => deterministicEventId(JSON.parse(m.body)));
    expect(new Set([...published, ...waiting])).toEqual(ids);
    await changeVisibility(services.sqs, dlqUrl, parked.map((m) => ({ MessageId: m.id, ReceiptHandle: m.receiptHandle })), 0);

    const second = startCli(['replay-dlq', '--direct', '--receive-wait', '1'], env);
    expect(await exited(second)).toBe(0);
    expect(new Set(await streamIds(services, 'rp-interrupt'))).toEqual(ids);
    expect(await queueDepth(services.sqs, dlqUrl)).toBe(0);

    // The same events parked and replayed again: more records, no new ids.
    const before = (await streamIds(services, 'rp-interrupt')).length;
    for (const raw of raws.slice(0, 20)) await services.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(raw) }));
    const third = await replay(['--dlq', dlqUrl, '--direct', '--stream', 'rp-interrupt']);
    expect(third.code).toBe(0);
    const after = await streamIds(services, 'rp-interrupt');
    expect(after.length).toBe(before + 20);
    expect(new Set(after)).toEqual(ids);
  }, 120_000);

  it('usage and configuration errors exit 2 before touching anything', async () => {
    const s = await incident('rp-usage');
    const missing = s.dlqUrl.replace('rp-usage-dlq', 'no-such-queue');
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['--dlq', missing, '--to-source', s.queueUrl], {}, /cannot use the DLQ .*no-such-queue/],
      [['--dlq', s.dlqUrl, '--direct'], { KINESIS_STREAM_NAME: '', KINESIS_STREAM_ARN: '' }, /KINESIS_STREAM_NAME or KINESIS_STREAM_ARN is required/],
      [['--dlq', s.dlqUrl, '--native', '--event-name', 'logged_in'], {}, /--native moves every message/],
      [['--dlq', s.dlqUrl, '--native', '--rate', '1000'], {}, /1 to 500/],
      [['--dlq', s.dlqUrl, '--to-source', s.queueUrl, '--rate', 'fast'], {}, /--rate must be a positive number/],
      [['--dlq', s.dlqUrl, '--to-source', s.queueUrl, '--max', '0'], {}, /--max must be a whole number/],
      [['--dlq', s.dlqUrl], { SQS_QUEUE_URL: '' }, /--to-source URL is required/],
      [['--dlq', s.dlqUrl, '--direct', '--native'], {}, /choose one mode/],
    ];
    for (const [args, vars, message] of cases) {
      const r = await replay(args, vars);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
    }
    expect(await counts(s.dlqUrl)).toEqual({ visible: 13, inFlight: 0 });
  }, 60_000);
});

describe('replay-dlq as an operator meets it (issue 26, item 17), through bin/', () => {
  /** The environment of a child with no local endpoints of this file's services: --local makes its own. */
  const ownEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_ENDPOINT_URL') && k !== 'DLQ_URL' && k !== 'SQS_QUEUE_URL'));

  it('every option problem at once, one line each, exit 2, with the worker configuration problems among them', async () => {
    const bad = startCli(['replay-dlq', '--dlq', 'not-a-url', '--direct', '--native', '--max', '0', '--rate', 'fast', '--receive-wait', '30', '--visibility-timeout', 'x'], ownEnv());
    expect(await exited(bad)).toBe(2);
    expect(bad.out.stdout).toBe('');
    expect(bad.out.stderr).toBe(
      [
        'canvas-caliper replay-dlq: 6 problems:',
        '  choose one mode: --to-source, --direct or --native',
        "  --dlq must be a queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), not 'not-a-url'",
        "  --max must be a whole number of at least 1, not '0'",
        "  --rate must be a positive number of messages per second (e.g. 50 or 50/s), not 'fast'",
        "  --visibility-timeout must be a whole number of at least 1, not 'x'",
        "  --receive-wait must be at most 20 (SQS long-poll limit), not '30'",
        "Run 'canvas-caliper replay-dlq --help' for usage.",
        '',
      ].join('\n'),
    );
    const { dlqUrl } = await createQueues(services.sqs, 'rp-at-once');
    const config = startCli(['replay-dlq', '--dlq', dlqUrl, '--direct', '--concurrency', '0'], { ...localEnv(services), KINESIS_STREAM_NAME: '', RETRY_BUDGET_MS: 'soon' });
    expect(await exited(config)).toBe(2);
    const lines = config.out.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('canvas-caliper replay-dlq: 3 problems:');
    expect(lines.slice(1, -1).sort()).toEqual(
      ["  --concurrency must be a whole number of at least 1, not '0'", '  KINESIS_STREAM_NAME or KINESIS_STREAM_ARN is required', expect.stringMatching(/^ {2}RETRY_BUDGET_MS /)].sort(),
    );
  }, 60_000);

  it('--local: parks samples in a DLQ of its own embedded services and replays them; --dry-run --json counts as its table does', async () => {
    const direct = startCli(['replay-dlq', '--local', '--direct', '--receive-wait', '1'], ownEnv());
    expect(await exited(direct)).toBe(1);
    expect(direct.out.stdout).toContain('published 6 · still failing 2');
    expect(direct.out.stdout).toMatch(/INVALID_JSON\s+1/);
    expect(direct.out.stdout).toMatch(/UNKNOWN_EVENT\s+1/);
    expect(direct.out.stderr).toMatch(/^replay-dlq --local: local SQS and kinesis-local started; 8 messages parked in http:\/\/127\.0\.0\.1:\d+\/\d+\/canvas-live-events-dlq, as an incident leaves them$/m);
    expect(direct.out.stderr).toContain('replay-dlq --local: now the DLQ holds 2 message(s), the source queue 0 (no worker runs here to take them), the stream 6 record(s)\n');

    const dry = startCli(['replay-dlq', '--local', '--dry-run', '--json', '--receive-wait', '1'], ownEnv());
    expect(await exited(dry)).toBe(0);
    const summary = JSON.parse(dry.out.stdout);
    expect(summary).toMatchObject({ dryRun: true, scanned: 8, failing: 2, handled: 0 });

    const mixed = startCli(['replay-dlq', '--local', '--dlq', 'https://sqs.us-east-1.amazonaws.com/1/q'], ownEnv());
    expect(await exited(mixed)).toBe(2);
    expect(mixed.out.stderr).toContain('--local makes its own DLQ, source queue and stream: leave out --dlq, --to-source and --stream');
  }, 90_000);
});
