// The baseline for `npm run bench:e2e`: what one would write first — sqs-consumer, and one
// PutRecord call per message. Same mapper, same local services.
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { Consumer } from 'sqs-consumer';
import { mapJson } from '../src/engine.js';
import { createClients } from '../src/worker/clients.js';

const { sqs, kinesis } = createClients({ region: process.env.AWS_REGION ?? 'us-east-1' });
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
