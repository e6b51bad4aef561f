// `canvas-caliper serve` on the local services: signed events (keys made here, the JWKS on loopback)
// are enqueued and reach Kinesis through the worker; every bad input is refused with its status and
// nothing enqueued; key rotation is picked up without a restart; SQS down → 503, nothing acknowledged
// that was not enqueued; SIGTERM answers what is in flight and exits 0.
import http from 'node:http';
import { exportSPKI, SignJWT, generateKeyPair, base64url } from 'jose';
import pino from 'pino';
import type { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { deterministicEventId } from '../src/engine.js';
import { main } from '../src/cli.js';
import { startServe, type Serving } from '../src/ingest/command.js';
import { loadServeConfig } from '../src/ingest/config.js';
import { Enqueuer } from '../src/ingest/enqueue.js';
import { post, startLocalSigner, type LocalSigner } from '../src/ingest/local.js';
import { createClients } from '../src/worker/clients.js';
import { createQueues, createStream, freePort, LOCAL_CREDENTIALS, LOCAL_REGION, queueDepth, readStream, type LocalServices } from '../src/worker/local.js';
import { Worker } from '../src/worker/worker.js';
import { drainQueue, exited, localEnv, localServicesForFile, startCli, until } from './local.js';
import { loadSamples } from '../src/samples.js';

let services: LocalServices;
localServicesForFile((s) => (services = s));

const silent = pino({ level: 'silent' });
const samples = loadSamples();
const sample = (name: string) => samples.find((s) => s.metadata.event_name === name)!;

let signer: LocalSigner;
beforeAll(async () => {
  signer = await startLocalSigner();
});
afterAll(async () => {
  await signer?.stop();
});

async function serveOn(queueUrl: string, env: NodeJS.ProcessEnv = {}, sqs: SQSClient = services.sqs, logger = silent): Promise<Serving & { url: string }> {
  const config = loadServeConfig({ SQS_QUEUE_URL: queueUrl, AWS_REGION: LOCAL_REGION, CANVAS_JWKS_URL: signer.url, PORT: '0', JWKS_COOLDOWN_S: '0', ...env });
  const serving = await startServe(config, sqs, logger);
  return Object.assign(serving, { url: `http://127.0.0.1:${serving.port}${config.INGEST_PATH}` });
}

const errorOf = (text: string) => (JSON.parse(text) as { error: string }).error;

describe('serve', () => {
  it('enqueues a signed sample with its event_name attribute; the worker publishes it to Kinesis', async () => {
    const { queueUrl, dlqUrl } = await createQueues(services.sqs, 'serve-ok');
    await createStream(services.kinesis, 'serve-ok', 1);
    const serving = await serveOn(queueUrl);
    try {
      const events = [sample('logged_in'), sample('grade_change'), sample('asset_accessed')];
      const answers = await Promise.all(events.map(async (e) => post(serving.url, await signer.sign({ ...e }, { expiresInS: 300 }))));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(answers.every((a) => typeof a.headers['x-request-id'] === 'string')).toBe(true);
      const config = loadConfig({ SQS_QUEUE_URL: queueUrl, DLQ_URL: dlqUrl, KINESIS_STREAM_NAME: 'serve-ok', AWS_REGION: LOCAL_REGION, RECEIVE_WAIT_TIME_S: '1' });
      const worker = new Worker({ sqs: services.sqs, kinesis: services.kinesis, config, logger: silent });
      worker.start();
      await until(async () => worker.counters.acknowledged === 3, 30_000);
      await worker.stop();
      const published = (await readStream(services.kinesis, 'serve-ok')).map((r) => JSON.parse(r).data[0].id as string);
      // The same ids as the same events delivered by SQS: the JWT's own claims (iat, exp) are not part of the event.
      expect(new Set(published)).toEqual(new Set(events.map((e) => deterministicEventId(e))));
      const metrics = await (await fetch(`http://127.0.0.1:${serving.port}/metrics`)).text();
      expect(metrics).toContain('canvas_caliper_ingest_requests_total{outcome="enqueued"} 3');
    } finally {
      await serving.stop();
    }
  }, 60_000);

  it('enqueues the raw event exactly (registered claims left out) with the event_name attribute', async () => {
    const { queueUrl } = await createQueues(services.sqs, 'serve-body');
    const serving = await serveOn(queueUrl);
    try {
      const event = { ...sample('submission_created'), extra: { kept: true } };
      expect((await post(serving.url, await new SignJWT(event).setProtectedHeader({ alg: 'RS256', kid: signer.kid }).setIssuer('canvas').setJti('j1').setIssuedAt().sign(await keyOf(signer)))).status).toBe(200);
      const [message] = await drainQueue(services.sqs, queueUrl);
      expect(JSON.parse(message!.body)).toEqual(event);
      expect(message!.attributes.event_name).toBe('submission_created');
    } finally {
      await serving.stop();
    }
  });

  it('refuses each bad input with its status and a one-line reason that never echoes the token, and enqueues nothing', async () => {
    const { queueUrl } = await createQueues(services.sqs, 'serve-bad');
    const logLines: string[] = [];
    const serving = await serveOn(queueUrl, { BODY_LIMIT_BYTES: '65536', CLOCK_TOLERANCE_S: '30', METRICS: 'emf' }, services.sqs, pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) }));
    const stranger = await startLocalSigner();
    try {
      const event = sample('logged_in');
      const good = await signer.sign({ ...event });
      const [h, p] = good.split('.');
      const { publicKey } = await generateKeyPair('RS256');
      const pem = await exportSPKI(publicKey);
      const forged = `${h}.${base64url.encode(JSON.stringify({ ...event, body: { ...event.body, user_id: '666' } }))}.${good.split('.')[2]}`;
      const none = `${base64url.encode(JSON.stringify({ alg: 'none', kid: signer.kid }))}.${p}.`;
      const hmac = await new SignJWT({ ...event }).setProtectedHeader({ alg: 'HS256', kid: signer.kid }).sign(new TextEncoder().encode(pem));
      const cases: [string, string, number, RegExp][] = [
        ['empty', '', 400, /body is empty/],
        ['not a JWT', 'hello world', 400, /not a JWT/],
        ['malformed parts', `${h}.!!!.x`, 400, /malformed JWT/],
        ['bad signature', forged, 401, /signature verification failed/],
        ['unknown kid', await stranger.sign({ ...event }), 401, /no key of the JWKS has kid/],
        ['alg none', none, 401, /algorithm "none" is not accepted/],
        ['HS256 with the public key', hmac, 401, /algorithm "HS256" is not accepted/],
        ['expired', await signer.sign({ ...event }, { expiresInS: -120 }), 401, /expired/],
        ['not yet valid', await signer.sign({ ...event, nbf: Math.floor(Date.now() / 1000) + 600 }), 401, /nbf claim/],
        ['issued in the future', await new SignJWT({ ...event }).setProtectedHeader({ alg: 'RS256', kid: signer.kid }).setIssuedAt(Math.floor(Date.now() / 1000) + 600).sign(await keyOf(signer)), 401, /iat/],
        ['no metadata', await signer.sign({ body: {} }), 400, /not a Canvas live event: metadata must be an object/],
        ['no event_name', await signer.sign({ metadata: { event_time: 'x' }, body: {} }), 400, /metadata.event_name/],
        ['body not an object', await signer.sign({ metadata: { event_name: 'logged_in' }, body: [1] }), 400, /body must be an object/],
        ['too large', await signer.sign({ ...event, body: { ...event.body, pad: 'x'.repeat(70_000) } }), 413, /over 65536 bytes/],
      ];
      for (const [what, token, status, reason] of cases) {
        const answer = await post(serving.url, token);
        expect({ what, status: answer.status }).toEqual({ what, status });
        expect(errorOf(answer.text), what).toMatch(reason);
        expect(answer.text.trim().split('\n'), what).toHaveLength(1);
        // Neither the answer nor the log holds any part of the token (its signature, or its payload).
        for (const part of token.split('.').filter((x) => x.length > 16)) {
          expect(answer.text, what).not.toContain(part.slice(0, 16));
          expect(logLines.join(''), what).not.toContain(part.slice(0, 16));
        }
      }
      const refusals = logLines.filter((l) => l.includes('"msg":"refused'));
      expect(refusals.length).toBe(cases.length);
      expect(refusals.every((l) => typeof JSON.parse(l).requestId === 'string')).toBe(true);
      const get = await post(serving.url, good, undefined, 'GET');
      expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
      expect((await post(`http://127.0.0.1:${serving.port}/elsewhere`, good)).status).toBe(404);
      expect(await queueDepth(services.sqs, queueUrl)).toBe(0);
      const metrics = await (await fetch(`http://127.0.0.1:${serving.port}/metrics`)).text();
      for (const [outcome, n] of [['malformed_jwt', 3], ['bad_signature', 1], ['unknown_kid', 1], ['alg_not_allowed', 2], ['expired', 1], ['claims_invalid', 2], ['not_canvas_event', 3], ['too_large', 1], ['method_not_allowed', 1], ['not_found', 1], ['enqueued', 0]] as const) {
        expect(metrics).toContain(`canvas_caliper_ingest_requests_total{outcome="${outcome}"} ${n}\n`);
      }
      // The stats line (written at stop) carries the counts per outcome as EMF metrics (METRICS=emf; by default only in ECS).
      await serving.stop();
      const stats = logLines.map((l) => JSON.parse(l) as Record<string, any>).filter((l) => l.msg === 'stats').at(-1)!;
      expect(stats._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'CanvasCaliper', Dimensions: [['Service']] });
      expect(stats).toMatchObject({ Service: 'serve', Ingest_malformed_jwt: 3, Ingest_not_canvas_event: 3, Ingest_enqueued: 0 });
    } finally {
      await stranger.stop();
      await serving.stop();
    }
  });

  it('picks up a new key in the JWKS without a restart (refresh on an unknown kid)', async () => {
    const { queueUrl } = await createQueues(services.sqs, 'serve-rotate');
    const serving = await serveOn(queueUrl);
    try {
      expect((await post(serving.url, await signer.sign({ ...sample('logged_in') }))).status).toBe(200);
      const before = signer.fetches;
      const old = signer.kid;
      await signer.rotate();
      expect((await post(serving.url, await signer.sign({ ...sample('logged_out') }))).status).toBe(200);
      expect(signer.fetches).toBe(before + 1);
      // The previous key is still published, and still accepted.
      expect((await post(serving.url, await signer.sign({ ...sample('grade_change') }, { kid: old }))).status).toBe(200);
      expect((await drainQueue(services.sqs, queueUrl)).map((m) => m.attributes.event_name).sort()).toEqual(['grade_change', 'logged_in', 'logged_out']);
    } finally {
      await serving.stop();
    }
  });

  it('SQS down: 503 with a reason, nothing enqueued, and /healthz turns unhealthy', async () => {
    const dead = createClients({ region: LOCAL_REGION, sqsEndpoint: `http://127.0.0.1:${await freePort()}`, credentials: LOCAL_CREDENTIALS });
    const serving = await serveOn('http://127.0.0.1/000000000000/nowhere', { ENQUEUE_RETRY_BUDGET_MS: '300', UNHEALTHY_AFTER_S: '1' }, dead.sqs);
    try {
      expect((await fetch(`http://127.0.0.1:${serving.port}/healthz`)).status).toBe(200);
      const answer = await post(serving.url, await signer.sign({ ...sample('logged_in') }));
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
      expect(errorOf(answer.text)).toMatch(/not enqueued, retry later: SQS did not accept the message within 300 ms/);
      await new Promise((r) => setTimeout(r, 1_100));
      expect((await post(serving.url, await signer.sign({ ...sample('logged_out') }))).status).toBe(503);
      const health = await fetch(`http://127.0.0.1:${serving.port}/healthz`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { reason: string }).reason).toMatch(/SendMessageBatch has failed for \d+ s \(network/);
    } finally {
      await serving.stop();
      dead.sqs.destroy();
      dead.kinesis.destroy();
    }
  });

  it('SQS that never answers: 503 within the retry budget; the JWKS unavailable: 503', async () => {
    const hanging = http.createServer(() => {});
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const stuck = createClients({ region: LOCAL_REGION, sqsEndpoint: `http://127.0.0.1:${(hanging.address() as { port: number }).port}`, credentials: LOCAL_CREDENTIALS });
    const serving = await serveOn('http://127.0.0.1/000000000000/stuck', { ENQUEUE_RETRY_BUDGET_MS: '300' }, stuck.sqs);
    const noJwks = await serveOn('http://127.0.0.1/000000000000/stuck', { CANVAS_JWKS_URL: `http://127.0.0.1:${await freePort()}/jwks` }, stuck.sqs);
    try {
      const started = Date.now();
      const answer = await post(serving.url, await signer.sign({ ...sample('logged_in') }));
      expect([answer.status, Date.now() - started < 2_000]).toEqual([503, true]);
      expect(errorOf(answer.text)).toMatch(/not enqueued, retry later: SQS did not accept the message within 300 ms/);
      const unverifiable = await post(noJwks.url, await signer.sign({ ...sample('logged_in') }));
      expect(unverifiable.status).toBe(503);
      expect(errorOf(unverifiable.text)).toMatch(/cannot verify now: the JWKS is unavailable/);
    } finally {
      hanging.closeAllConnections();
      hanging.close();
      await serving.stop();
      await noJwks.stop();
      stuck.sqs.destroy();
      stuck.kinesis.destroy();
    }
  });

  it('answers 200 only for the entries SQS accepted (per-entry failures retried, then 503)', async () => {
    const stored: string[] = [];
    let calls = 0;
    // SQS refusing every entry whose event is logged_out, accepting the others.
    const fake = {
      send: async (command: SendMessageBatchCommand) => {
        calls++;
        const entries = command.input.Entries!;
        const refuse = entries.filter((e) => e.MessageAttributes!.event_name!.StringValue === 'logged_out');
        for (const e of entries) if (!refuse.includes(e)) stored.push(e.MessageAttributes!.event_name!.StringValue!);
        return { Successful: entries.filter((e) => !refuse.includes(e)).map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })), Failed: refuse.map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' })) };
      },
    } as unknown as SQSClient;
    const serving = await serveOn('http://127.0.0.1/000000000000/fake', { ENQUEUE_RETRY_BUDGET_MS: '400', ENQUEUE_LINGER_MS: '20' }, fake);
    try {
      const names = ['logged_in', 'logged_out', 'grade_change', 'logged_out', 'asset_accessed'];
      const answers = await Promise.all(names.map(async (n) => (await post(serving.url, await signer.sign({ ...sample(n) }))).status));
      expect(answers).toEqual([200, 503, 200, 503, 200]);
      expect(stored.sort()).toEqual(['asset_accessed', 'grade_change', 'logged_in']);
      expect(calls).toBeGreaterThan(2);
    } finally {
      await serving.stop();
    }
  });

  it('enqueuer: batches of at most 10 entries and ENQUEUE_BATCH_MAX_BYTES; a larger event goes alone; every send resolves once accepted', async () => {
    const batches: { count: number; bytes: number }[] = [];
    const fake = {
      send: async (command: SendMessageBatchCommand) => {
        const entries = command.input.Entries!;
        batches.push({ count: entries.length, bytes: entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody!) + 'event_name'.length + 'String'.length + e.MessageAttributes!.event_name!.StringValue!.length, 0) });
        return { Successful: entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })) };
      },
    } as unknown as SQSClient;
    const enqueuer = new Enqueuer(fake, 'http://127.0.0.1/000000000000/fake', { lingerMs: 20, maxBatchBytes: 256 * 1024, retryBudgetMs: 1_000 });
    const sizes = [...Array(25).fill(100), 100_000, 100_000, 100_000, 300_000, 100];
    await Promise.all(sizes.map((n) => enqueuer.send('x'.repeat(n), 'logged_in')));
    expect(batches.reduce((n, b) => n + b.count, 0)).toBe(sizes.length);
    expect(batches.every((b) => b.count <= 10)).toBe(true);
    expect(batches.filter((b) => b.bytes > 256 * 1024)).toEqual([{ count: 1, bytes: 300_000 + 'event_name'.length + 'String'.length + 'logged_in'.length }]);
    // 10, 10, then 5 small + 2 of 100 kB (a third would pass 256 KiB), the third alone (the 300 kB one would), the 300 kB one alone, the last.
    expect(batches.map((b) => b.count)).toEqual([10, 10, 7, 1, 1, 1]);
  });

  it('canvas-caliper serve: SIGTERM answers the request in flight, then exits 0', async () => {
    const { queueUrl } = await createQueues(services.sqs, 'serve-term');
    const port = await freePort();
    const child = startCli(['serve'], localEnv(services, { SQS_QUEUE_URL: queueUrl, CANVAS_JWKS_URL: signer.url, PORT: String(port), ENQUEUE_LINGER_MS: '800', LOG_LEVEL: 'info' }));
    try {
      await until(async () => child.out.stdout.includes('serve listening'), 15_000);
      const agent = new http.Agent({ keepAlive: true });
      const inFlight = post(`http://127.0.0.1:${port}/`, await signer.sign({ ...sample('logged_in') }), agent);
      // The request waits in the enqueuer's linger when the signal comes.
      await new Promise((r) => setTimeout(r, 300));
      expect(await queueDepth(services.sqs, queueUrl)).toBe(0);
      child.kill('SIGTERM');
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(answer.headers.connection).toBe('close');
      expect(await exited(child)).toBe(0);
      expect(child.out.stdout).toContain('stopped; every request was answered');
      expect((await drainQueue(services.sqs, queueUrl)).map((m) => m.attributes.event_name)).toEqual(['logged_in']);
      agent.destroy();
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);

  it('npm start -- --ingest https: the samples posted as signed JWTs reach the stream, all 82 types, the DLQ empty', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn' };
    delete env.SQS_QUEUE_URL;
    const cli = startCli(['run', '--ingest', 'https'], env);
    expect(await exited(cli)).toBe(0);
    expect(cli.out.stdout).toMatch(/Posted \d+ sample events as signed JWTs to serve at http:\/\/127\.0\.0\.1:\d+\/: (\d+) answered 200/);
    const [, posted, accepted] = /Posted (\d+) .*: (\d+) answered 200/.exec(cli.out.stdout)!;
    expect(accepted).toBe(posted);
    expect(cli.out.stdout).toContain('Canvas event types published: 82 of the 82 enqueued.');
    expect(cli.out.stdout).toContain('Dead-letter queue: 0 message(s).');
  }, 60_000);

  it('run --ingest: only sqs or https, and only for the embedded run (exit 2)', async () => {
    let stderr = '';
    const io = { stdout: () => {}, stderr: (t: string) => void (stderr += t), stdin: () => [] };
    expect(await main(['run', '--ingest', 'carrier-pigeon'], { ...io, env: {} })).toBe(2);
    expect(stderr).toContain('--ingest must be sqs or https');
    expect(await main(['run', '--ingest', 'https'], { ...io, env: { SQS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q', AWS_REGION: 'us-east-1', KINESIS_STREAM_NAME: 's' } })).toBe(2);
    expect(stderr).toContain('--ingest applies to the embedded run');
  });

  it('a PORT already in use stops it at start, naming the port (exit 2)', async () => {
    const taken = http.createServer();
    await new Promise<void>((r) => taken.listen(0, r));
    const port = (taken.address() as { port: number }).port;
    let stderr = '';
    try {
      const env = { SQS_QUEUE_URL: 'http://127.0.0.1/000000000000/q', AWS_REGION: LOCAL_REGION, CANVAS_JWKS_URL: signer.url, PORT: String(port) };
      expect(await main(['serve'], { stdout: () => {}, stderr: (t: string) => void (stderr += t), stdin: () => [], env })).toBe(2);
      expect(stderr).toContain(`PORT ${port} is already in use`);
    } finally {
      taken.close();
    }
  });

  it('refuses a bad configuration with every problem at once (exit 2)', async () => {
    let stderr = '';
    const code = await main(['serve'], { stdout: () => {}, stderr: (t: string) => void (stderr += t), stdin: () => process.stdin, env: { CANVAS_JWKS_URL: 'nope', CANVAS_JWT_ALGORITHMS: 'RS256,HS256,none', PORT: 'x', BODY_LIMIT_BYTES: '9999999', INGEST_PATH: '/healthz' } } as never);
    expect(code).toBe(2);
    for (const problem of ['SQS_QUEUE_URL: is required', 'AWS_REGION is required', 'CANVAS_JWKS_URL must be a URL', 'not an asymmetric JWS algorithm: HS256, none', 'PORT must be a number', 'BODY_LIMIT_BYTES must be at most 1048576', 'INGEST_PATH must not be /healthz']) expect(stderr).toContain(problem);
  });
});

/** The signer's current private key, for tokens with claims the signer does not set itself. */
async function keyOf(s: LocalSigner) {
  return s.privateKey(s.kid);
}
