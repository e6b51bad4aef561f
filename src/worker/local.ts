// Real-protocol local services for `npm start` and the integration tests: local-aws-sqs (SQS, JSON
// protocol, redrive) in this process, and kinesis-local (the kinesis-mock engine) as a child
// process run from its own folder. Both on free loopback ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import type { Server } from 'node:http';
import { CreateStreamCommand, DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sleep } from './backoff.js';
import { createClients } from './clients.js';
import { queueArn } from './sqs.js';

export const LOCAL_REGION = 'us-east-1';
/** kinesis-local selects its account from the access key id; these are not secrets. */
export const LOCAL_CREDENTIALS = { accessKeyId: '000000000000', secretAccessKey: 'local' };
/**
 * Each attempt's deadline for the emulators' clients: they never hang, but on a busy machine
 * kinesis-local takes seconds to create a stream or read one back, and CreateStream cut and retried
 * fails (the stream exists by then).
 */
const LOCAL_CALL_TIMEOUT_MS = 60_000;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface LocalServices {
  sqsEndpoint: string;
  kinesisEndpoint: string;
  sqs: SQSClient;
  kinesis: KinesisClient;
  stop(): Promise<void>;
}

export interface LocalSqs {
  sqsEndpoint: string;
  sqs: SQSClient;
  stop(): Promise<void>;
}

/** local-aws-sqs alone, on a free loopback port (what SINK=caliper-http needs locally). */
export async function startLocalSqs(): Promise<LocalSqs> {
  const sqsServer = await sqsServerOnFreePort();
  const sqsEndpoint = `http://127.0.0.1:${(sqsServer.address() as net.AddressInfo).port}`;
  const { sqs, kinesis } = createClients({ region: LOCAL_REGION, sqsEndpoint, credentials: LOCAL_CREDENTIALS, callTimeoutMs: LOCAL_CALL_TIMEOUT_MS });
  kinesis.destroy();
  return {
    sqsEndpoint,
    sqs,
    stop: async () => {
      sqsServer.closeAllConnections();
      await new Promise<void>((r) => sqsServer.close(() => r()));
      sqs.destroy();
    },
  };
}

async function sqsServerOnFreePort(): Promise<Server> {
  // Loaded only here: a development dependency, absent from a production install.
  const { createSqsServer } = (await import('local-aws-sqs')) as { createSqsServer: (o: object) => Promise<Server> };
  return createSqsServer({ port: await freePort(), hostname: '127.0.0.1', region: LOCAL_REGION, emulateQueueCreationLifecycle: false });
}

export async function startLocalServices(): Promise<LocalServices> {
  const require = createRequire(import.meta.url);
  const sqsServer = await sqsServerOnFreePort();
  const sqsEndpoint = `http://127.0.0.1:${(sqsServer.address() as net.AddressInfo).port}`;

  const kinesisDir = path.dirname(require.resolve('kinesis-local/package.json'));
  const kinesisPort = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['main.js'], {
    cwd: kinesisDir,
    env: { ...process.env, KINESIS_MOCK_PLAIN_PORT: String(kinesisPort), KINESIS_MOCK_TLS_PORT: String(await freePort()), LOG_LEVEL: 'WARN', CREATE_STREAM_DURATION: '0ms', AWS_REGION: LOCAL_REGION },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let childErr = '';
  child.stderr?.on('data', (d) => (childErr = (childErr + d).slice(-2000)));
  // An exit that skips stop() (a second Ctrl-C: process.exit) must not leave kinesis-local running behind us.
  const killChild = () => void child.kill('SIGTERM');
  process.once('exit', killChild);
  const kinesisEndpoint = `http://127.0.0.1:${kinesisPort}`;
  const clients = createClients({ region: LOCAL_REGION, sqsEndpoint, kinesisEndpoint, credentials: LOCAL_CREDENTIALS, callTimeoutMs: LOCAL_CALL_TIMEOUT_MS });

  const stop = async () => {
    process.off('exit', killChild);
    child.kill('SIGTERM');
    sqsServer.closeAllConnections();
    await new Promise<void>((r) => sqsServer.close(() => r()));
    clients.sqs.destroy();
    clients.kinesis.destroy();
  };
  // Ready when it accepts TCP connections.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kinesis-local exited (${child.exitCode}): ${childErr}`);
    const up = await new Promise<boolean>((r) => net.connect(kinesisPort, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false)));
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`kinesis-local did not start within 30 s: ${childErr}`);
    }
    await sleep(100);
  }
  return { sqsEndpoint, kinesisEndpoint, ...clients, stop };
}

/** A source queue with a DLQ and redrive policy. */
export async function createQueues(sqs: SQSClient, name: string, maxReceiveCount = 5): Promise<{ queueUrl: string; dlqUrl: string }> {
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq`, Attributes: { MessageRetentionPeriod: '1209600' } }))).QueueUrl!;
  const dlqArn = await queueArn(sqs, dlqUrl);
  const queueUrl = (
    await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }) } }))
  ).QueueUrl!;
  return { queueUrl, dlqUrl };
}

export async function createStream(kinesis: KinesisClient, name: string, shards = 2): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  for (let i = 0; i < 300; i++) {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await sleep(100);
  }
  throw new Error(`stream ${name} did not become ACTIVE`);
}

export async function enqueue(sqs: SQSClient, queueUrl: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    const batch = bodies.slice(i, i + 10);
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((b, j) => ({ Id: String(j), MessageBody: b })) }));
    if (out.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(out.Failed)}`);
  }
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Every record in the stream, from the start of every shard. */
export async function readStream(kinesis: KinesisClient, name: string): Promise<string[]> {
  const out: string[] = [];
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
  for (const shard of shards) {
    let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? []) out.push(Buffer.from(r.Data!).toString('utf8'));
      if (!page.Records?.length || page.MillisBehindLatest === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return out;
}
