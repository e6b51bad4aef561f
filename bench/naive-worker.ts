// The baseline for `npm run bench:e2e`: what one would write first — sqs-consumer with its defaults
// (one message per receive, one DeleteMessage per message), one PutRecord call per message, and the
// SDK's clients as they come (Kinesis on HTTP/1.1: its default HTTP/2 handler cannot talk to a plain-HTTP
// endpoint). Same mapper, same endpoints as our worker in the same run.
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Consumer } from 'sqs-consumer';
import { mapJson } from '../src/engine.js';

const sqs = new SQSClient({});
const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });
const consumer = Consumer.create({
  queueUrl: process.env.SQS_QUEUE_URL!,
  sqs,
  waitTimeSeconds: 1,
  handleMessage: async (message) => {
    const envelope = mapJson(message.Body ?? '');
    await kinesis.send(new PutRecordCommand({ StreamName: process.env.KINESIS_STREAM_NAME!, Data: Buffer.from(JSON.stringify(envelope)), PartitionKey: envelope.data[0].actor.id }));
    return message;
  },
});
consumer.on('error', (err) => console.error(err.message));
consumer.start();
process.on('SIGTERM', () => {
  consumer.stop();
  process.exit(0);
});
