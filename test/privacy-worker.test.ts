// The worker with PRIVACY=pseudonymise (mocked SQS and Kinesis): what it publishes holds pseudonyms
// (the partition key too, so one user's events stay on one shard), no login, name or user id; an
// envelope already in Caliper is parked in the DLQ with the reason.
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { anchorOf } from '../src/privacy/policy.js';
import { mapJson } from '../src/engine.js';
import { Worker } from '../src/worker/worker.js';
import { userEvent } from './helpers.js';

const sqs = mockClient(SQSClient);
const kinesis = mockClient(KinesisClient);
afterEach(() => {
  sqs.reset();
  kinesis.reset();
});

it('PRIVACY=pseudonymise: published records and partition keys carry pseudonyms; a Caliper envelope goes to the DLQ', async () => {
  const raw = userEvent('enrollment_created', { enrollment_id: '46825', course_id: '565', user_id: '21070000000020064', user_name: 'Isaac Newton', type: 'StudentEnrollment' }, { user_id: '21070000000004242' });
  const caliper = mapJson(JSON.stringify(raw), {});
  const bodies = [JSON.stringify(raw), JSON.stringify(caliper)];
  let served = false;
  sqs.on(ReceiveMessageCommand).callsFake(async () => {
    if (served) return new Promise((resolve) => setTimeout(() => resolve({ Messages: [] }), 20));
    served = true;
    return { Messages: bodies.map((Body, i) => ({ MessageId: `m-${i}`, ReceiptHandle: `rh-${i}`, Body, Attributes: { ApproximateReceiveCount: '1' } })) };
  });
  sqs.on(DeleteMessageBatchCommand).callsFake(async (input) => ({ Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] }));
  sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  kinesis.on(PutRecordsCommand).callsFake(async (input) => ({ FailedRecordCount: 0, Records: input.Records.map(() => ({ SequenceNumber: '1', ShardId: 's' })) }));

  const config = loadConfig({
    SQS_QUEUE_URL: 'http://localhost:9324/000000000000/canvas',
    DLQ_URL: 'http://localhost:9324/000000000000/canvas-dlq',
    KINESIS_STREAM_NAME: 'caliper',
    AWS_REGION: 'us-east-1',
    BATCH_LINGER_MS: '5',
    POLLERS: '1',
    PRIVACY: 'pseudonymise',
    PRIVACY_KEY: 'the worker test key, thirty-two bytes long',
  });
  const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), kinesis: new KinesisClient({ region: 'us-east-1' }), config, logger: pino({ level: 'silent' }) });
  worker.start();
  const end = Date.now() + 5_000;
  while (worker.counters.acknowledged + worker.counters.sentToDlq < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  await worker.stop();

  const records = kinesis.commandCalls(PutRecordsCommand).flatMap((c) => c.args[0].input.Records!);
  expect(records).toHaveLength(1);
  const text = Buffer.from(records[0]!.Data!).toString();
  const user = `urn:instructure:canvas:user:${config.privacy!.userPseudonym(raw.metadata.user_id, anchorOf(raw.metadata))}`;
  expect(records[0]!.PartitionKey).toBe(user);
  for (const value of [raw.metadata.user_id, raw.metadata.user_login, raw.metadata.user_sis_id, raw.metadata.client_ip, 'Isaac Newton', '21070000000020064']) expect(text).not.toContain(value);
  const parked = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
  expect(parked).toHaveLength(1);
  expect(parked[0]!.MessageAttributes!.error_code!.StringValue).toBe('INVALID_CALIPER');
  expect(parked[0]!.MessageAttributes!.error_message!.StringValue).toContain('PRIVACY=pseudonymise takes raw Canvas events only');
});
