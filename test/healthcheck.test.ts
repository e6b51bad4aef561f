// `canvas-caliper healthcheck` as the image's HEALTHCHECK runs it — a child process of bin/ with the
// container's variables — against a real `serve` (its /healthz on PORT) and a real worker health server
// (on HEALTH_PORT): it checks whichever of the two runs, on whatever port (issue 26, item 17).
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SQSClient } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startServe, type Serving } from '../src/ingest/command.js';
import { loadServeConfig } from '../src/ingest/config.js';
import { startHealthServer } from '../src/worker/observe.js';
import { Worker } from '../src/worker/worker.js';

const BIN = path.join(import.meta.dirname, '..', 'bin', 'canvas-caliper.js');
const silent = pino({ level: 'silent' });

/** A port nothing listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `canvas-caliper healthcheck ARGS` with only these variables (and PATH), as a container's HEALTHCHECK runs it. */
async function healthcheck(args: string[], vars: Record<string, string>) {
  const result = await promisify(execFile)(process.execPath, [BIN, 'healthcheck', ...args], { env: { PATH: process.env.PATH, ...vars } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
  return result;
}

let serving: Serving;
let worker: Worker;
let workerHealth: http.Server;
let servePort: number;
let workerPort: number;
const sqs = new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

beforeAll(async () => {
  const jwks = `http://127.0.0.1:${await closedPort()}/jwks`; // unreadable: serve starts anyway, healthy
  serving = await startServe(loadServeConfig({ SQS_QUEUE_URL: 'http://127.0.0.1:9/000000000000/q', AWS_REGION: 'us-east-1', CANVAS_JWKS_URL: jwks, PORT: '0' }), sqs, silent);
  servePort = serving.port;
  const config = loadConfig({ SQS_QUEUE_URL: 'http://127.0.0.1:9/000000000000/q', AWS_REGION: 'us-east-1', KINESIS_STREAM_NAME: 's' });
  worker = new Worker({ sqs, kinesis: new KinesisClient({ region: 'us-east-1' }), config, logger: silent });
  workerHealth = await startHealthServer(worker, 0, silent);
  workerPort = (workerHealth.address() as AddressInfo).port;
});
afterAll(async () => {
  workerHealth?.close();
  await serving?.stop();
  sqs.destroy();
});

describe('canvas-caliper healthcheck (the image HEALTHCHECK, for run and serve)', () => {
  it('checks serve on PORT when the worker port has nothing listening (serve on another port than 8080)', async () => {
    expect(await healthcheck([], { PORT: String(servePort), HEALTH_PORT: String(await closedPort()) })).toEqual({ code: 0, stdout: '', stderr: '' });
    // serve's own variables only, as its container has them: HEALTH_PORT unset means 8080, where nothing of ours listens here.
    expect(await healthcheck(['serve'], { PORT: String(servePort) })).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('checks the worker on HEALTH_PORT; HEALTH_PORT=0 (no health server) leaves it to PORT', async () => {
    expect(await healthcheck([], { HEALTH_PORT: String(workerPort), PORT: String(await closedPort()) })).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await healthcheck([], { HEALTH_PORT: '0', PORT: String(servePort) })).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('the process that answers decides: an unhealthy worker is not hidden by a healthy port behind it', async () => {
    const saved = worker.lastPollAt;
    worker.lastPollAt = Date.now() - 120_000;
    try {
      const r = await healthcheck([], { HEALTH_PORT: String(workerPort), PORT: String(servePort) });
      expect(r).toEqual({ code: 1, stdout: '', stderr: 'canvas-caliper healthcheck: unhealthy (HTTP 503): no receive has finished for 120 s\n' });
    } finally {
      worker.lastPollAt = saved;
    }
  });

  it('says which process and which variable it expected where nothing listens', async () => {
    const [a, b] = [await closedPort(), await closedPort()];
    expect(await healthcheck([], { HEALTH_PORT: String(a), PORT: String(b) })).toEqual({
      code: 1,
      stdout: '',
      stderr: `canvas-caliper healthcheck: connection refused on ports ${a} and ${b}: neither the worker nor serve is listening (is one running, with HEALTH_PORT=${a} or PORT=${b}?)\n`,
    });
    expect(await healthcheck(['serve'], { HEALTH_PORT: String(workerPort), PORT: String(b) })).toEqual({
      code: 1,
      stdout: '',
      stderr: `canvas-caliper healthcheck: connection refused on port ${b}: serve is not listening there (is it running, with PORT=${b}?)\n`,
    });
    expect(await healthcheck([], { HEALTH_PORT: '0', PORT: '0' })).toMatchObject({ code: 1, stderr: expect.stringContaining('HEALTH_PORT and PORT are both 0') });
  });

  it('takes run, serve or nothing (exit 2 otherwise, with a likely meant option)', async () => {
    expect(await healthcheck(['worker'], {})).toMatchObject({ code: 2, stderr: expect.stringContaining("healthcheck takes run, serve or nothing, not 'worker'") });
    expect(await healthcheck(['--prot'], {})).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown option '--prot'") });
  });
});
