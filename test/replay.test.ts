// replay-dlq on real-protocol local services (local-aws-sqs, kinesis-local): every mode, the filters,
// the dry run, an interruption, and a second replay, checked message by message.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetQueueAttributesCommand, SendMessageCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { main, type Io } from '../src/cli.js';
import { loadConfig } from '../src/config.js';
import { deterministicEventId } from '../src/engine.js';
import { MappingError } from '../src/errors.js';
import { distinctEvents } from '../src/samples.js';
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
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readStdin: async () => '', env: { ...process.env, ...vars }, stderrIsTTY: false };
  const code = await main(['replay-dlq', '--receive-wait', '1', ...args], io);
  return { code, stdout, stderr };
}

/** Visible and in-flight counts of a queue. */
async function counts(queueUrl: string) {
  const a = (await services.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes!;
  return { visible: Number(a.ApproximateNumberOfMessages), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible) };
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

/**
 * A DLQ as an incident leaves it, next to its source queue and a stream:
 * - 6 valid events moved there by the redrive policy (no error attributes; Canvas's own event_name and event_time attributes),
 * - 4 valid events parked by an older release with a reason that no longer holds (INVALID_RAW_EVENT),
 * - 3 poison messages parked by the worker with their real reasons, one of them with an outdated reason.
 */
async function incident(name: string) {
  const { queueUrl, dlqUrl } = await createQueues(services.sqs, name);
  await createStream(services.kinesis, name);
  const raws = distinctEvents(10, name, undefined, 40);
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
});
