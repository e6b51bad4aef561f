// The worker's AWS clients (src/worker/clients.ts: the lean HTTP handler, the cached middleware, no SDK
// logger) against the bench's lean SQS and Kinesis endpoints over real HTTP, and the handler's edge
// cases: aborts without leaked listeners, idle timeouts, refused connections, large bodies.
import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ChangeMessageVisibilityBatchCommand, CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeanKinesis } from '../bench/lean-kinesis.js';
import { createLeanSqs } from '../bench/lean-sqs.js';
import { AwsCalls, createClients, LeanHttpHandler, sdkLogger } from '../src/worker/clients.js';
import { faultKind } from '../src/worker/faults.js';
import { createStream } from '../src/worker/local.js';

const listen = async (server: http.Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const servers: http.Server[] = [];
let clients: ReturnType<typeof createClients>;
beforeAll(async () => {
  const sqs = createLeanSqs();
  const kinesis = createLeanKinesis();
  servers.push(sqs, kinesis);
  clients = createClients({ region: 'us-east-1', sqsEndpoint: await listen(sqs), kinesisEndpoint: await listen(kinesis), credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } });
});
afterAll(() => {
  clients.sqs.destroy();
  clients.kinesis.destroy();
  for (const s of servers) s.close();
});

/** A server that answers every request with `answer` (or never, when it returns undefined), recording what it got. */
async function fake(answer: (req: http.IncomingMessage, body: Buffer) => [number, string] | undefined) {
  const seen: { headers: http.IncomingHttpHeaders; body: Buffer; url: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ headers: req.headers, body, url: req.url ?? '' });
      const a = answer(req, body);
      if (a) res.writeHead(a[0], { 'content-type': 'application/x-amz-json-1.0' }).end(a[1]);
    });
  });
  servers.push(server);
  const url = await listen(server);
  const { hostname, port } = new URL(url);
  return { seen, server, request: (body: string | Uint8Array, path = '/') => ({ protocol: 'http:', hostname, port: Number(port), method: 'POST', path, headers: { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(Buffer.byteLength(body as string)) }, body }) };
}

describe('the worker’s clients on the lean endpoints', () => {
  it('send, receive (bodies intact, UTF-8 included), change visibility and delete messages', async () => {
    const { sqs } = clients;
    const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'clients-test' }))).QueueUrl!;
    const bodies = Array.from({ length: 10 }, (_, i) => JSON.stringify({ n: i, text: 'é'.repeat(i * 100) }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: bodies.map((MessageBody, i) => ({ Id: String(i), MessageBody })) }));
    const signal = new AbortController().signal;
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }), { abortSignal: signal });
    expect(got.Messages!.map((m) => m.Body)).toEqual(bodies);
    expect(got.Messages![0]!.Attributes).toEqual({ ApproximateReceiveCount: '1' });
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    const entries = got.Messages!.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! }));
    const changed = await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl, Entries: entries.map((e) => ({ ...e, VisibilityTimeout: 60 })) }));
    expect(changed.Successful).toHaveLength(10);
    const deleted = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: entries }));
    expect(deleted.Successful).toHaveLength(10);
    const attributes = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes!;
    expect([attributes.ApproximateNumberOfMessages, attributes.ApproximateNumberOfMessagesNotVisible]).toEqual(['0', '0']);
  });

  it('puts 500 records of ~2.7 KB in one PutRecords call, each with its sequence number and shard', async () => {
    const { kinesis } = clients;
    await createStream(kinesis, 'clients-test', 4);
    const data = (i: number) => Buffer.from(JSON.stringify({ data: [{ id: `urn:uuid:${i}`, pad: 'x'.repeat(2_700) }] }));
    const out = await kinesis.send(new PutRecordsCommand({ StreamName: 'clients-test', Records: Array.from({ length: 500 }, (_, i) => ({ Data: data(i), PartitionKey: `user-${i}` })) }));
    expect(out.FailedRecordCount).toBe(0);
    expect(out.Records).toHaveLength(500);
    expect(new Set(out.Records!.map((r) => r.ShardId)).size).toBe(4);
    expect(out.Records!.every((r) => /^\d{56}$/.test(r.SequenceNumber!))).toBe(true);
  });

  it('reports a missing queue as the SDK’s error, classified for the worker’s faults', async () => {
    const err = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: 'http://127.0.0.1/000000000000/nope', WaitTimeSeconds: 0 })).catch((e: Error) => e);
    expect((err as Error).name).toBe('QueueDoesNotExist');
    expect(faultKind(err)).toBe('other');
  });
});

describe('what the SDK retried, and its warnings', () => {
  it('counts the attempts the SDK retried and the delay it waited, per operation, on success and on failure', async () => {
    let answered = 0;
    // Two 500s, then a success; then 500s only (the SDK gives up after its three attempts).
    const server = await fake(() => (++answered === 3 ? [200, '{"Successful":[],"Failed":[]}'] : [500, '{"__type":"InternalError","message":"busy"}']));
    const endpoint = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
    const { sqs, calls } = createClients({ region: 'us-east-1', sqsEndpoint: endpoint, credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } });
    const input = { QueueUrl: `${endpoint}/000000000000/q`, Entries: [{ Id: '0', ReceiptHandle: 'rh' }] };
    await sqs.send(new DeleteMessageBatchCommand(input));
    const first = { ...calls.byOperation.get('DeleteMessageBatch')! };
    expect(first.retries).toBe(2);
    expect(first.retryDelayMs).toBeGreaterThan(0);
    await expect(sqs.send(new DeleteMessageBatchCommand(input))).rejects.toMatchObject({ name: 'InternalError' });
    expect(calls.byOperation.get('DeleteMessageBatch')!.retries).toBe(4);
    expect(answered).toBe(6);
    sqs.destroy();
  });

  it('the SDK’s warnings reach our logger as one line each, once per distinct text', () => {
    const lines: { level: string; msg: string; source: string }[] = [];
    const logger = { warn: (o: { source: string }, msg: string) => lines.push({ level: 'warn', msg, ...o }), error: (o: { source: string }, msg: string) => lines.push({ level: 'error', msg, ...o }) };
    const sdk = sdkLogger(logger as never);
    const twoLines = 'QueueUrl=http://localhost:1/q differs from SQSClient resolved endpoint=http://127.0.0.1:1/, using QueueUrl host as endpoint.\nSet [endpoint=string] or [useQueueUrlAsEndpoint=false] on the SQSClient.';
    for (let i = 0; i < 64; i++) sdk.warn(twoLines);
    sdk.error(new TypeError('Invalid URL'));
    sdk.info('chatter');
    sdk.debug('chatter');
    expect(lines).toEqual([
      { level: 'warn', source: 'aws-sdk', msg: twoLines.replace('\n', ' ') },
      { level: 'error', source: 'aws-sdk', msg: 'TypeError: Invalid URL' },
    ]);
  });
});

describe('LeanHttpHandler', () => {
  it('writes the body whole (string or bytes) with the query string, and returns the status, headers and body', async () => {
    const server = await fake(() => [200, '{"ok":true}']);
    const handler = new LeanHttpHandler();
    const bytes = new Uint8Array(Buffer.from('x'.repeat(3 * 1024 * 1024)));
    const big = await handler.handle({ ...server.request(bytes), query: { a: 'b c', list: ['1', '2'], flag: null } });
    expect(big.response.statusCode).toBe(200);
    expect(big.response.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(big.response.body.toString()).toBe('{"ok":true}');
    expect(server.seen[0]!.body.byteLength).toBe(bytes.byteLength);
    expect(server.seen[0]!.url).toBe('/?a=b%20c&list=1&list=2&flag');
    await handler.handle(server.request('{"small":"é"}'));
    expect(server.seen[1]!.body.toString()).toBe('{"small":"é"}');
    handler.destroy();
  });

  it('aborts a request on its signal, and leaves no listener on the signal either way', async () => {
    const server = await fake(() => undefined); // never answers
    const handler = new LeanHttpHandler();
    const abort = new AbortController();
    const pending = handler.handle(server.request('{}'), { abortSignal: abort.signal });
    await new Promise((r) => setTimeout(r, 50));
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(1);
    abort.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
    await expect(handler.handle(server.request('{}'), { abortSignal: abort.signal })).rejects.toMatchObject({ name: 'AbortError' });
    handler.destroy();
  });

  it('fails a request with no answer by its deadline as a retryable TimeoutError, and tells `calls` which operation stalled', async () => {
    const server = await fake(() => undefined);
    const calls = new AwsCalls();
    const stalled: [string, number][] = [];
    calls.onTimeout = (operation, ms) => stalled.push([operation, ms]);
    const handler = new LeanHttpHandler({ timeoutMs: 100, calls });
    const request = server.request('{}');
    const err = await handler.handle({ ...request, headers: { ...request.headers, 'x-amz-target': 'Kinesis_20131202.PutRecords' } }).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'TimeoutError', message: 'no answer within 100 ms' });
    expect(faultKind(err)).toBe('network');
    expect(stalled).toEqual([['PutRecords', 100]]);
    expect(calls.byOperation.get('PutRecords')).toEqual({ retries: 0, retryDelayMs: 0, timeouts: 1 });
    handler.destroy();
  });

  it('the deadline is for the whole exchange: an answer trickling one byte every 50 ms is cut at it (an idle timer never fires)', async () => {
    const trickle = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    });
    servers.push(trickle);
    const { hostname, port } = new URL(await listen(trickle));
    const handler = new LeanHttpHandler({ timeoutMs: 400 });
    const started = Date.now();
    const err = await handler.handle({ protocol: 'http:', hostname, port: Number(port), method: 'POST', path: '/', headers: {}, body: '{}' }).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(1_500);
    trickle.closeAllConnections();
    handler.destroy();
  });

  it('a long poll gets its WaitTimeSeconds on top of the deadline; any other call does not', async () => {
    const server = await fake(() => undefined);
    server.server.removeAllListeners('request');
    server.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      req.resume();
      setTimeout(() => res.writeHead(200).end('{}'), 600);
    });
    const handler = new LeanHttpHandler({ timeoutMs: 200 });
    const request = server.request('{"QueueUrl":"q","WaitTimeSeconds":1}');
    const as = (target: string) => handler.handle({ ...request, headers: { ...request.headers, 'x-amz-target': target } });
    expect((await as('AmazonSQS.ReceiveMessage')).response.statusCode).toBe(200);
    await expect(as('AmazonSQS.DeleteMessageBatch')).rejects.toMatchObject({ name: 'TimeoutError', message: 'no answer within 200 ms' });
    handler.destroy();
  });

  it('through the SDK too (it hands the handler the body as bytes): a receive waiting 1 s answered after 0.6 s is not cut at a 200 ms deadline', async () => {
    const server = await fake(() => undefined);
    server.server.removeAllListeners('request');
    server.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      req.resume();
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{"Messages":[]}'), 600);
    });
    const endpoint = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
    const { sqs, calls } = createClients({ region: 'us-east-1', sqsEndpoint: endpoint, credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, callTimeoutMs: 200 });
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: `${endpoint}/000000000000/q`, WaitTimeSeconds: 1 }));
    expect(out.Messages).toEqual([]);
    expect(calls.byOperation.get('ReceiveMessage')).toBeUndefined();
    const stuck = await sqs.send(new ReceiveMessageCommand({ QueueUrl: `${endpoint}/000000000000/q`, WaitTimeSeconds: 0 })).catch((e: Error) => e);
    expect(stuck).toMatchObject({ name: 'TimeoutError', message: 'no answer within 200 ms' });
    expect(calls.byOperation.get('ReceiveMessage')).toMatchObject({ timeouts: 3, retries: 2 });
    sqs.destroy();
  });

  it('passes a refused connection on with its code, which the worker classifies as a network fault', async () => {
    const server = await fake(() => [200, '{}']);
    const request = server.request('{}');
    await new Promise((r) => server.server.close(r));
    const err = await new LeanHttpHandler().handle(request).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    expect(faultKind(err)).toBe('network');
  });
});
