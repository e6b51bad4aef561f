// Helpers for the tests on real-protocol local services (local-aws-sqs, kinesis-local).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION, readStream, startLocalServices, type LocalServices } from '../src/worker/local.js';

export const ROOT = path.join(import.meta.dirname, '..');

/** Local SQS and Kinesis for one test file: started before its tests (then `started` is called with them), stopped after. */
export function localServicesForFile(started: (services: LocalServices) => void): void {
  let services: LocalServices | undefined;
  beforeAll(async () => {
    services = await startLocalServices();
    started(services);
  }, 60_000);
  afterAll(async () => {
    await services?.stop();
  });
}

export async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ReadMessage {
  id: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, string>;
}

/** Receives (and so hides) every visible message of a queue: body and message attributes. */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<ReadMessage[]> {
  const out: ReadMessage[] = [];
  for (;;) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 600, MessageAttributeNames: ['All'] }));
    if (!r.Messages?.length) return out;
    for (const m of r.Messages) out.push({ id: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, attributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue!])) });
  }
}

export const streamIds = async (services: LocalServices, stream: string) => (await readStream(services.kinesis, stream)).map((r) => JSON.parse(r).data[0].id as string);

/** The environment of a canvas-caliper child process talking to the local services. */
export function localEnv(services: LocalServices, vars: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'production',
    AWS_REGION: LOCAL_REGION,
    AWS_ENDPOINT_URL_SQS: services.sqsEndpoint,
    AWS_ENDPOINT_URL_KINESIS: services.kinesisEndpoint,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    ...vars,
  };
}

export interface Cli extends ChildProcess {
  /** Everything written to stdout and stderr so far (read continuously, so the child never blocks on a full pipe). */
  out: { stdout: string; stderr: string };
}

/** The CLI processes still running: killed when the test file ends, so that a failed test leaves no worker polling behind it. */
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

export function startCli(args: string[], env: NodeJS.ProcessEnv): Cli {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/canvas-caliper.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }) as Cli;
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (child.out.stdout += d));
  child.stderr!.on('data', (d) => (child.out.stderr += d));
  return child;
}

export const exited = (child: ChildProcess) => new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

/** An HTTP relay in front of a local service that can be told to stop answering: requests then wait, unanswered, until it is closed. */
export interface Gate {
  url: string;
  /** From now on, requests are held (not forwarded, not answered). */
  hold(): void;
  /** From now on, requests are forwarded again (those held stay held). */
  release(): void;
  /** From now on, every `n`th request for an operation `operations` names (its x-amz-target's action; all when omitted) is held, the others forwarded. */
  holdEvery(n: number, operations?: readonly string[]): void;
  /** How many requests are being held. */
  held(): number;
  /** How many requests were held so far (still held, or given up on by their client). */
  heldSoFar(): number;
  close(): Promise<void>;
}

export async function gate(target: string): Promise<Gate> {
  const to = new URL(target);
  let holding = false;
  let every: { n: number; operations?: readonly string[]; seen: number } | undefined;
  const waiting = new Set<ServerResponse>();
  let heldSoFar = 0;
  const server = createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop()!;
    const counted = every && (!every.operations || every.operations.includes(operation));
    if (holding || (counted && ++every!.seen % every!.n === 0)) {
      waiting.add(res);
      heldSoFar++;
      res.on('close', () => waiting.delete(res));
      return;
    }
    const out = request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hold: () => void (holding = true),
    release: () => void (holding = false),
    holdEvery: (n, operations) => void (every = { n, operations, seen: 0 }),
    held: () => waiting.size,
    heldSoFar: () => heldSoFar,
    close: () => {
      for (const res of waiting) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
