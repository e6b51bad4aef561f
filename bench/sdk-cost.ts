// `node dist/bench/sdk-cost.js [variant...]`: the AWS SDK's own CPU per call, for the client
// configurations src/worker/clients.ts chose between — no network: a request handler answers from
// memory (a receive of 10 sample messages, a delete of 10, a PutRecords of 500 sample records), so
// what is measured is the SDK (middleware, serialisation, signing, retries, endpoint) and nothing else.
// Variants are interleaved round by round and the median kept (the machine is shared). A variant is
// `+`-joined options: sdk (the SDK's defaults), cache (cacheMiddleware), nolog (no logger
// middleware), md5off (no body MD5 check on receive), noua (no user-agent middleware), norec (no
// recursion-detection middleware), nosignal (receives sent without the per-call abort signal). `worker`
// is what createClients builds and how the worker calls it (cache+nolog+nosignal). `cycle` is a receive and a delete
// made one after the other, as the worker makes them (an options argument to send() drops the SDK's
// cached stack for every command of that client, so a receive with a signal costs the delete too).
import { createHash } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mapJson } from '../src/engine.js';
import { distinctEvents, loadSamples } from '../src/samples.js';

const bodies = distinctEvents(500, 'sdk-cost', loadSamples()).map((raw) => JSON.stringify(raw));
const records = bodies.map((b) => Buffer.from(JSON.stringify(mapJson(b))));
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const handle = `rh-${'x'.repeat(300)}`;
const answers: Record<string, Buffer> = {
  ReceiveMessage: Buffer.from(
    JSON.stringify({ Messages: bodies.slice(0, 10).map((Body, i) => ({ MessageId: `m${i}`, ReceiptHandle: `${handle}${i}`, MD5OfBody: md5(Body), Body, Attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1700000000000' } })) }),
  ),
  DeleteMessageBatch: Buffer.from(JSON.stringify({ Successful: Array.from({ length: 10 }, (_, i) => ({ Id: String(i) })), Failed: [] })),
  PutRecords: Buffer.from(JSON.stringify({ FailedRecordCount: 0, Records: records.map((_, i) => ({ SequenceNumber: String(49_000 + i).padStart(56, '4'), ShardId: 'shardId-000000000001' })) })),
};

/** Answers every request at once from `answers`, by the operation in its X-Amz-Target. */
class MemoryHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  handle(request: { headers: Record<string, string> }) {
    const operation = request.headers['x-amz-target']!.split('.')[1]!;
    return Promise.resolve({ response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: answers[operation]! } });
  }
  updateHttpClientConfig(): void {}
  httpHandlerConfigs() {
    return {};
  }
  destroy(): void {}
}

const options = (variant: string) => new Set(variant.split('+').flatMap((o) => (o === 'worker' ? ['cache', 'nolog', 'nosignal'] : [o])));

function clients(variant: string) {
  const o = options(variant);
  const common = { region: 'us-east-1', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, requestHandler: new MemoryHandler(), ...(o.has('cache') ? { cacheMiddleware: true } : {}) };
  const sqs = new SQSClient({ ...common, ...(o.has('md5off') ? { md5: false } : {}) });
  const kinesis = new KinesisClient(common);
  for (const c of [sqs, kinesis]) {
    if (o.has('nolog')) c.middlewareStack.remove('loggerMiddleware');
    if (o.has('noua')) c.middlewareStack.remove('getUserAgentMiddleware');
    if (o.has('norec')) c.middlewareStack.remove('recursionDetectionMiddleware');
  }
  return { sqs, kinesis };
}

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const variants = args.length ? args : ['sdk', 'cache', 'nolog', 'cache+nolog', 'worker', 'worker+md5off', 'worker+noua+norec'];
const built = variants.map((v) => ({ v, ...clients(v) }));
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const CALLS = 300;
const PUTS = 4;
const signal = new AbortController().signal; // as the worker's receive: with an abort signal
const QueueUrl = 'http://127.0.0.1:1/000000000000/q';
const samples = new Map(variants.map((v) => [v, { receive: [] as number[], delete: [] as number[], cycle: [] as number[], putRecords500: [] as number[] }]));
for (let round = 0; round < ROUNDS; round++) {
  for (const { v, sqs, kinesis } of built) {
    const s = samples.get(v)!;
    const receive = () =>
      options(v).has('nosignal')
        ? sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20, VisibilityTimeout: 120, MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'], MessageAttributeNames: ['All'] }))
        : sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20, VisibilityTimeout: 120, MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'], MessageAttributeNames: ['All'] }), { abortSignal: signal });
    const remove = () => sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: 10 }, (_, j) => ({ Id: String(j), ReceiptHandle: `${handle}${j}` })) }));
    let t = cpu();
    for (let i = 0; i < CALLS; i++) await receive();
    s.receive.push((cpu() - t) / CALLS);
    t = cpu();
    for (let i = 0; i < CALLS; i++) await remove();
    s.delete.push((cpu() - t) / CALLS);
    t = cpu();
    for (let i = 0; i < CALLS; i++) {
      await receive();
      await remove();
    }
    s.cycle.push((cpu() - t) / CALLS);
    t = cpu();
    for (let i = 0; i < PUTS; i++) await kinesis.send(new PutRecordsCommand({ StreamName: 's', Records: records.map((Data, j) => ({ Data, PartitionKey: `urn:instructure:canvas:user:${21070000000000000 + j}` })) }));
    s.putRecords500.push((cpu() - t) / PUTS);
  }
}
/** The median, the first two rounds (warm-up) left out. */
const median = (xs: number[]) => xs.slice(2).sort((a, b) => a - b)[Math.floor((xs.length - 2) / 2)]!;
const result = variants.map((v) => {
  const s = samples.get(v)!;
  const m = { receive: Math.round(median(s.receive)), delete: Math.round(median(s.delete)), receiveThenDelete: Math.round(median(s.cycle)), putRecords500: Math.round(median(s.putRecords500)) };
  // Per event: a tenth of a receive-then-delete, a 500th of a PutRecords.
  return { variant: v, microsPerCall: m, microsPerEvent: +(m.receiveThenDelete / 10 + m.putRecords500 / 500).toFixed(1) };
});
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
else for (const r of result) console.log(`${r.variant.padEnd(24)} receive ${r.microsPerCall.receive} µs, delete ${r.microsPerCall.delete} µs, receive then delete ${r.microsPerCall.receiveThenDelete} µs, PutRecords(500) ${r.microsPerCall.putRecords500} µs per call → ${r.microsPerEvent} µs per event`);
process.exit(0);
