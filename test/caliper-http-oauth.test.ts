// The HTTP sink with OAuth 2.0 client credentials (CALIPER_ENDPOINT_TOKEN_URL), against a real token
// endpoint and a real events endpoint on loopback (SQS mocked as in caliper-http.test.ts): renewal
// before expiry, one token request however many wait, a revoked token, a refused client, a token
// endpoint that is down for a while, and what RFC 6749 says each auth method sends.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../src/config.js';
import { CaliperHttpSink } from '../src/worker/caliper-http.js';
import { recordFor } from '../src/worker/decode.js';
import { health, prometheus } from '../src/worker/observe.js';
import { configuredSink, endpointToken, PublishError } from '../src/worker/sink.js';
import { ClientCredentialsToken, lifetimeOf, TokenError } from '../src/worker/token.js';
import { Worker } from '../src/worker/worker.js';
import { queueOf as queueMessages, userEvent } from './helpers.js';
import { testEndpoint, testTokenEndpoint, type TestEndpoint, type TokenEndpoint } from './http-endpoint.js';

const CLIENT_ID = 'canvas caliper:client/1';
const CLIENT_SECRET = 'cs-9f2e7a41-b0c3 d6e8+%/:&=SECRET';
const QUEUE = 'http://localhost:9324/000000000000/canvas';
const DLQ = 'http://localhost:9324/000000000000/canvas-dlq';
const sqsMock = mockClient(SQSClient);
const secretsMock = mockClient(SecretsManagerClient);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

const page = (id: string) => JSON.stringify(userEvent('wiki_page_created', { wiki_page_id: id, title: `Page ${id}` }));
const message = (id: string): Message => ({ MessageId: `m-${id}`, ReceiptHandle: `rh-${id}`, Body: page(id), Attributes: { ApproximateReceiveCount: '1' } });
const record = (id: string) => recordFor(page(id), {}).record;
const released = () => sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.ReceiptHandle));
const parked = () => sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input);

async function until(check: () => boolean, ms = 8_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await wait(10);
  }
}

const logs: string[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });

let issuer: TokenEndpoint | undefined;
let endpoint: TestEndpoint | undefined;
const closers: (() => Promise<unknown>)[] = [];

/** An events endpoint that takes the issuer's valid tokens only. */
const eventsEndpoint = (tokens: TokenEndpoint) => testEndpoint((r) => (tokens.valid(r.headers.authorization) ? { status: 200 } : { status: 401, body: '{"error":"invalid_token"}' }));

function config(env: Record<string, string> = {}): Config {
  return loadConfig({
    SQS_QUEUE_URL: QUEUE,
    DLQ_URL: DLQ,
    AWS_REGION: 'us-east-1',
    SINK: 'caliper-http',
    CALIPER_ENDPOINT_URL: endpoint!.url,
    CALIPER_ENDPOINT_TOKEN_URL: issuer!.url,
    CALIPER_ENDPOINT_CLIENT_ID: CLIENT_ID,
    CALIPER_ENDPOINT_CLIENT_SECRET: CLIENT_SECRET,
    CALIPER_ENDPOINT_SCOPE: 'https://purl.imsglobal.org/spec/caliper/v1p2/scope/events.write',
    HTTP_BATCH_LINGER_MS: '5',
    HTTP_TIMEOUT_MS: '500',
    RETRY_BUDGET_MS: '4000',
    POLLERS: '1',
    ...env,
  });
}

/** A sink straight over the configuration (no worker), closed after the test. */
async function sinkOf(c: Config) {
  const sink = (await configuredSink(c, {}))({});
  closers.push(async () => sink.close?.());
  return sink;
}

beforeEach(() => {
  sqsMock.reset();
  secretsMock.reset();
  logs.length = 0;
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  sqsMock.on(DeleteMessageBatchCommand).callsFake(async (input) => ({ Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] }));
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  const issued = issuer?.issued ?? [];
  await endpoint?.close();
  await issuer?.close();
  endpoint = issuer = undefined;
  // Neither the client secret nor any token issued leaves: not in a log line, not in the DLQ.
  for (const secret of [CLIENT_SECRET, ...issued]) {
    expect(logs.join('\n')).not.toContain(secret);
    expect(JSON.stringify(parked())).not.toContain(secret);
  }
});

describe('OAuth 2.0 client credentials', () => {
  it('sends what RFC 6749 says for client_secret_basic: id and secret form-urlencoded, then base64; grant_type and scope in the body', async () => {
    issuer = await testTokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, expiresIn: 3600 });
    endpoint = await eventsEndpoint(issuer);
    const sink = await sinkOf(config());
    await sink.put(record('1'), 'k', Date.now() + 3000);
    const [request] = issuer.requests;
    // Written out by hand, not with the code under test: §2.3.1 and Appendix B, application/x-www-form-urlencoded as
    // HTML 4.01 has it (every character but letters and digits as %HH, a space as +).
    const id = 'canvas+caliper%3Aclient%2F1';
    const secret = 'cs%2D9f2e7a41%2Db0c3+d6e8%2B%25%2F%3A%26%3DSECRET';
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`);
    expect(request!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(request!.form)).toEqual({ grant_type: 'client_credentials', scope: 'https://purl.imsglobal.org/spec/caliper/v1p2/scope/events.write' });
    expect(endpoint.requests[0]!.headers.authorization).toBe(`Bearer ${issuer.issued[0]}`);
  });

  it('sends the id and secret in the body for client_secret_post, with no Authorization header', async () => {
    issuer = await testTokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, expiresIn: 3600 });
    endpoint = await eventsEndpoint(issuer);
    const sink = await sinkOf(config({ CALIPER_ENDPOINT_AUTH_METHOD: 'client_secret_post' }));
    await sink.put(record('1'), 'k', Date.now() + 3000);
    const [request] = issuer.requests;
    expect(request!.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(request!.form)).toEqual({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope: expect.stringContaining('events.write') });
    expect(endpoint.delivered).toHaveLength(1);
  });

  it('renews a token before it expires: a run of 3 s with 1-second tokens sees no 401, with about one token request per 0.75 s', async () => {
    issuer = await testTokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, expiresIn: 1 });
    let refused = 0;
    endpoint = await testEndpoint((r) => (issuer!.valid(r.headers.authorization) ? { status: 200 } : (refused++, { status: 401 })));
    const sink = await sinkOf(config({ HTTP_BATCH_MAX_EVENTS: '1' }));
    const started = Date.now();
    const puts: Promise<void>[] = [];
    for (let i = 0; Date.now() - started < 3000; i++) {
      puts.push(sink.put(record(String(i)), 'k', Date.now() + 3000));
      await wait(25);
    }
    await Promise.all(puts);
    expect(refused).toBe(0);
    expect(endpoint.delivered).toHaveLength(puts.length);
    expect(endpoint.requests).toHaveLength(puts.length); // no request was refused and resent
    // Renewed from three quarters of its life on: 3 s / 0.75 s ≈ 4, give or take one.
    expect(issuer.requests.length).toBeGreaterThanOrEqual(3);
    expect(issuer.requests.length).toBeLessThanOrEqual(6);
  });

  it('makes one token request for 50 requests in flight when the token has expired', async () => {
    issuer = await testTokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, expiresIn: 1 });
    endpoint = await eventsEndpoint(issuer);
    const sink = await sinkOf(config({ HTTP_BATCH_MAX_EVENTS: '1', HTTP_MAX_IN_FLIGHT: '64' }));
    await sink.put(record('999'), 'k', Date.now() + 3000);
    expect(issuer.requests).toHaveLength(1);
    await wait(1_000); // expired
    const fifty = Array.from({ length: 50 }, (_, i) => sink.put(record(String(i)), 'k', Date.now() + 3000));
    await Promise.all(fifty);
    expect(issuer.requests).toHaveLength(2);
    expect(endpoint.delivered).toHaveLength(51);
  });

  it('fetches a new token once when the endpoint revokes the one it holds (401), and delivery goes on', async () => {
    issuer = await testTokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, expiresIn: 3600 });
    let revoked = false;
    endpoint = await testEndpoint((r, n) => {
      if (n === 5 && !revoked) {
        revoked = true;
        issuer!.revoke(issuer!.issued[0]!);
      }
      return issuer!.valid(r.headers.authorization) ? { status: 200 } : { status: 401 };
    });
    const c = config({ HTTP_BATCH_MAX_EVENTS: '1' });
    queueMessages(sqsMock, Array.from({ length: 20 }, (_, i) => message(String(i))));
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), sink: await configuredSink(c, {}), config: c, logger });
    closers.push(() => worker.stop());
    worker.start();
    await until(() => worker.counters.acknowledged === 20);
    expect(issuer.requests).toHaveLength(2);
    expect(worker.blocked).toBeUndefined();
    expect(new Set(endpoint.delivered).size).toBe(20);
    expect(parked()).toEqual([]);
  });

  it('a refused client (bad secret) stops consuming: health 503, one line saying what to check, messages left in SQS, nothing in the DLQ', async () => {
    issuer = await testTokenEndpoint({ clientId: CLIENT_ID, clientSecret: 'the-right-secret-0000' });
    endpoint = await eventsEndpoint(issuer);
    const c = config();
    queueMessages(sqsMock, [message('1'), message('2'), message('3')]);
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), sink: await configuredSink(c, {}), config: c, logger });
    closers.push(() => worker.stop());
    worker.start();
    await until(() => worker.counters.released === 3);
    expect(issuer.requests).toHaveLength(1); // a refusal is not retried
    expect(endpoint.requests).toEqual([]);
    expect(worker.blocked).toMatch(/^the token endpoint http:\/\/127\.0\.0\.1:\d+\/oauth\/token refused our client credentials \(HTTP 401 invalid_client\): check CALIPER_ENDPOINT_CLIENT_ID, the client secret and CALIPER_ENDPOINT_AUTH_METHOD$/);
    expect(health(worker)).toEqual({ healthy: false, reason: `not consuming: ${worker.blocked}` });
    expect(parked()).toEqual([]);
    expect(released().sort()).toEqual(['rh-1', 'rh-2', 'rh-3']);
    await until(() => logs.some((l) => l.includes('stopped consuming')));
    expect(logs.filter((l) => l.includes('stopped consuming'))).toHaveLength(1);
    // Not blamed on the retry budget.
    expect(logs.filter((l) => l.includes('retry budget'))).toEqual([]);
    expect(logs.filter((l) => l.includes('the sink is blocked; left in SQS'))).toHaveLength(3);
    expect(prometheus(worker)).toContain('canvas_caliper_http_blocked 1');
  });

  it('loses nothing while the token endpoint is down for a while (503, a hang, 429 with Retry-After), then delivers', async () => {
    const downUntil = Date.now() + 1_200;
    issuer = await testTokenEndpoint({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      expiresIn: 3600,
      answer: (n) => (n === 2 ? 'hang' : n === 3 ? { status: 429, headers: { 'retry-after': '1' }, body: '{"error":"slow_down"}' } : Date.now() < downUntil ? { status: 503, body: 'down' } : undefined),
    });
    endpoint = await eventsEndpoint(issuer);
    const c = config({ HTTP_TIMEOUT_MS: '300' });
    queueMessages(sqsMock, Array.from({ length: 5 }, (_, i) => message(String(i))));
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), sink: await configuredSink(c, {}), config: c, logger });
    closers.push(() => worker.stop());
    worker.start();
    await until(() => worker.counters.acknowledged === 5);
    expect(worker.blocked).toBeUndefined();
    expect(new Set(endpoint.delivered).size).toBe(5);
    expect(parked()).toEqual([]);
    // After the 429, the next token request waited for its Retry-After.
    expect(issuer.requests[3]!.at - issuer.requests[2]!.at).toBeGreaterThanOrEqual(950);
    expect(logs.join('\n')).toContain('TokenRequest failed');
    // A token endpoint that keeps failing is what /healthz reports (UNHEALTHY_AFTER_S of 60 s, one second later).
    expect(health(worker)).toEqual({ healthy: true });
    worker.faults.failed('TokenRequest', new Error('down'));
    expect(health(worker, Date.now() + 61_000)).toMatchObject({ healthy: false, reason: expect.stringMatching(/^TokenRequest has failed for 61 s/) });
  });

  it('a token request that trickles its answer ends at its deadline (HTTP_TIMEOUT_MS, whole exchange), and is tried again until the caller\'s', async () => {
    issuer = await testTokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, answer: () => ({ status: 200, trickleMs: 100, body: JSON.stringify({ access_token: 'at-trickled-0123456789', token_type: 'Bearer', expires_in: 60 }) }) });
    endpoint = await eventsEndpoint(issuer);
    const source = new ClientCredentialsToken({ tokenUrl: issuer.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, method: 'client_secret_basic', timeoutMs: 400 });
    const started = Date.now();
    const out = await source.token(Date.now() + 1_500).catch((err: unknown) => err);
    expect(out).toBeInstanceOf(TokenError);
    expect((out as TokenError).blocking).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((out as TokenError).message).toMatch(/^no token from http:\/\/127\.0\.0\.1:\d+\/oauth\/token within the retry budget \(last: .*did not answer in time/);
    // Each request ended at 400 ms, then the next one followed after a back-off.
    expect(issuer.requests.length).toBeGreaterThanOrEqual(2);
    for (const [i, r] of issuer.requests.slice(1).entries()) expect(r.at - issuer.requests[i]!.at).toBeLessThan(1_000);
  });

  it('a token endpoint that answers 200 without a token (a wrong URL) or a 404 blocks at once, saying what to check; a 503 does not', async () => {
    const answers = [{ status: 200, body: '<html>login</html>', headers: { 'content-type': 'text/html' } }, { status: 200, body: '{"token_type":"Bearer"}' }, { status: 404, body: 'not found' }];
    for (const answer of answers) {
      issuer = await testTokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, answer: () => answer });
      const source = new ClientCredentialsToken({ tokenUrl: issuer.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, method: 'client_secret_basic', timeoutMs: 400 });
      const out = (await source.token(Date.now() + 2_000).catch((err: unknown) => err)) as TokenError;
      expect(out).toMatchObject({ blocking: true, message: expect.stringMatching(answer.status === 404 ? /refused our client credentials \(HTTP 404\): check CALIPER_ENDPOINT_TOKEN_URL/ : /answered without a token: check CALIPER_ENDPOINT_TOKEN_URL/) });
      expect(issuer.requests).toHaveLength(1);
      await issuer.close();
    }
    issuer = await testTokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, answer: () => ({ status: 503, body: '<html>busy</html>', headers: { 'content-type': 'text/html' } }) });
    const source = new ClientCredentialsToken({ tokenUrl: issuer.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, method: 'client_secret_basic', timeoutMs: 400 });
    expect(await source.token(Date.now() + 300).catch((err: unknown) => err)).toMatchObject({ blocking: false, message: expect.stringContaining('answered HTTP 503') });
  });

  it('the client secret from Secrets Manager: the secret itself, or JSON with client_id and client_secret', async () => {
    issuer = await testTokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, expiresIn: 3600 });
    endpoint = await eventsEndpoint(issuer);
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:caliper-client-AbCdEf';
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET }) });
    const secrets = new SecretsManagerClient({ region: 'us-east-1' });
    const c = config({ CALIPER_ENDPOINT_CLIENT_SECRET: '', CALIPER_ENDPOINT_CLIENT_ID: '', CALIPER_ENDPOINT_CLIENT_SECRET_ARN: arn });
    const source = await endpointToken(c, { secrets });
    expect(await source.token(Date.now() + 2_000)).toBe(issuer.issued[0]);
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'not-json' });
    await expect(endpointToken(c, { secrets })).rejects.toThrow(`cannot read the Caliper endpoint's client secret from CALIPER_ENDPOINT_CLIENT_SECRET_ARN (${arn}): Error: the secret ${arn} holds no "client_id" and CALIPER_ENDPOINT_CLIENT_ID is not set`);
  });

  it('renews from three quarters of a token\'s life (at most 5 min before), and stops sending it a tenth (at most 30 s) before it expires', () => {
    expect(lifetimeOf(3600, 0)).toEqual({ renewAt: 3_300_000, expiresAt: 3_570_000 });
    expect(lifetimeOf(4, 0)).toEqual({ renewAt: 3_000, expiresAt: 3_600 });
    expect(lifetimeOf(undefined, 0)).toEqual({ renewAt: Infinity, expiresAt: Infinity });
  });
});

describe('OAuth configuration', () => {
  const base = { SQS_QUEUE_URL: QUEUE, AWS_REGION: 'us-east-1', SINK: 'caliper-http', CALIPER_ENDPOINT_URL: 'https://platform.example/caliper' };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ ...base, ...env });
    } catch (err) {
      return (err as ConfigError).problems;
    }
    return [];
  };
  const oauth = { CALIPER_ENDPOINT_TOKEN_URL: 'https://platform.example/oauth/token', CALIPER_ENDPOINT_CLIENT_ID: 'id' };

  it('needs a client id and exactly one client secret; its options without a token URL are errors; http only to loopback', () => {
    expect(problems({ ...oauth, CALIPER_ENDPOINT_CLIENT_SECRET: 's' })).toEqual([]);
    expect(problems({ ...oauth, CALIPER_ENDPOINT_CLIENT_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x', CALIPER_ENDPOINT_CLIENT_ID: '' })).toEqual([]);
    expect(problems({ CALIPER_ENDPOINT_TOKEN_URL: oauth.CALIPER_ENDPOINT_TOKEN_URL, CALIPER_ENDPOINT_CLIENT_SECRET: CLIENT_SECRET })).toEqual(['CALIPER_ENDPOINT_TOKEN_URL needs CALIPER_ENDPOINT_CLIENT_ID (the client id the platform gave you)']);
    expect(problems({ ...oauth })).toEqual(['CALIPER_ENDPOINT_TOKEN_URL needs exactly one of CALIPER_ENDPOINT_CLIENT_SECRET and CALIPER_ENDPOINT_CLIENT_SECRET_ARN']);
    expect(problems({ CALIPER_ENDPOINT_TOKEN: 't', CALIPER_ENDPOINT_SCOPE: 'a', CALIPER_ENDPOINT_AUTH_METHOD: 'client_secret_post' })).toEqual([
      'CALIPER_ENDPOINT_SCOPE, CALIPER_ENDPOINT_AUTH_METHOD: options of OAuth 2.0 client credentials, which need CALIPER_ENDPOINT_TOKEN_URL',
    ]);
    expect(problems({ ...oauth, CALIPER_ENDPOINT_CLIENT_SECRET: 's', CALIPER_ENDPOINT_TOKEN: 't' })[0]).toMatch(/^one of CALIPER_ENDPOINT_TOKEN, CALIPER_ENDPOINT_TOKEN_SECRET_ARN or CALIPER_ENDPOINT_TOKEN_URL/);
    expect(problems({ ...oauth, CALIPER_ENDPOINT_CLIENT_SECRET: 's', CALIPER_ENDPOINT_TOKEN_URL: 'http://platform.example/token', CALIPER_ENDPOINT_ALLOW_HTTP: 'true' })).toEqual([
      'CALIPER_ENDPOINT_TOKEN_URL must be https (http only to a loopback address)',
    ]);
    expect(problems({ ...oauth, CALIPER_ENDPOINT_CLIENT_SECRET: 's', CALIPER_ENDPOINT_TOKEN_URL: 'http://127.0.0.1:9/token' })).toEqual([]);
    const bad = problems({ ...oauth, CALIPER_ENDPOINT_CLIENT_SECRET: `${CLIENT_SECRET}\n`, CALIPER_ENDPOINT_AUTH_METHOD: 'private_key_jwt', CALIPER_ENDPOINT_SCOPE: 'a  b' });
    expect(bad).toEqual([
      'CALIPER_ENDPOINT_CLIENT_SECRET must be printable ASCII',
      'CALIPER_ENDPOINT_SCOPE must be scope tokens separated by single spaces (RFC 6749 §3.3)',
      'CALIPER_ENDPOINT_AUTH_METHOD must be client_secret_basic or client_secret_post',
    ]);
  });

  it('a text that is no URL is one line among the other problems, never a stack; CALIPER_ENDPOINT_URL without SINK hints SINK=caliper-http', () => {
    expect(problems({ CALIPER_ENDPOINT_URL: 'notaurl', CALIPER_ENDPOINT_TOKEN: 't', HTTP_MAX_IN_FLIGHT: '0' })).toEqual([
      'CALIPER_ENDPOINT_URL must be a URL (https://lrs.example.edu/caliper)',
      'HTTP_MAX_IN_FLIGHT must be at least 1',
    ]);
    expect(problems({ ...oauth, CALIPER_ENDPOINT_CLIENT_SECRET: 's', CALIPER_ENDPOINT_TOKEN_URL: 'token' })).toEqual(['CALIPER_ENDPOINT_TOKEN_URL must be a URL (https://platform.example/oauth/token)']);
    expect(problems({ SINK: '', CALIPER_ENDPOINT_TOKEN: 't' })).toEqual(['KINESIS_STREAM_NAME or KINESIS_STREAM_ARN is required (CALIPER_ENDPOINT_URL is set: for a Caliper endpoint set SINK=caliper-http)']);
  });
});

describe('the sink\'s failure paths', () => {
  const TOKEN = 'tok-5b8e1f0a9c7d3e2f4a6b';

  it('any 2xx is delivery: 202, and a 200 whose body is cut off, are not sent again', async () => {
    endpoint = await testEndpoint((_, n) => (n === 1 ? { status: 202 } : { status: 200, body: '{"accepted": true, "padding": "..........."}', cutAfter: 5 }));
    const sink = new CaliperHttpSink({ url: endpoint.url, token: (await import('../src/worker/token.js')).staticToken(TOKEN), timeoutMs: 1000, maxEvents: 1, maxBytes: 1 << 20, lingerMs: 1, maxInFlight: 1 });
    closers.push(() => sink.close());
    await sink.put(record('1'), 'k', Date.now() + 2000);
    await sink.put(record('2'), 'k', Date.now() + 2000);
    expect(endpoint.requests).toHaveLength(2);
    expect(endpoint.delivered).toHaveLength(2);
    expect(sink.metrics().find((m) => m.name === 'http_requests_total' && m.labels?.status === 'error')).toBeUndefined();
  });

  it('HTTP_BATCH_MAX_EVENTS=1 sends one event per request', async () => {
    endpoint = await testEndpoint(() => ({ status: 202 }));
    const c = loadConfig({ SQS_QUEUE_URL: QUEUE, AWS_REGION: 'us-east-1', SINK: 'caliper-http', CALIPER_ENDPOINT_URL: endpoint.url, CALIPER_ENDPOINT_TOKEN: TOKEN, HTTP_BATCH_MAX_EVENTS: '1', HTTP_BATCH_LINGER_MS: '50' });
    const sink = await sinkOf(c);
    await Promise.all(Array.from({ length: 7 }, (_, i) => sink.put(record(String(i)), 'k', Date.now() + 3000)));
    expect(endpoint.requests.map((r) => r.envelope.data.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });

  it('a trickling answer (1 byte per 100 ms) is aborted at HTTP_TIMEOUT_MS for the whole exchange, counted, logged and retried', async () => {
    endpoint = await testEndpoint((_, n) => (n === 1 ? { status: 500, body: 'x'.repeat(100), trickleMs: 100 } : { status: 200 }));
    const c = loadConfig({ SQS_QUEUE_URL: QUEUE, AWS_REGION: 'us-east-1', SINK: 'caliper-http', CALIPER_ENDPOINT_URL: endpoint.url, CALIPER_ENDPOINT_TOKEN: TOKEN, HTTP_TIMEOUT_MS: '400', RETRY_BUDGET_MS: '4000', POLLERS: '1', HTTP_BATCH_LINGER_MS: '5' });
    queueMessages(sqsMock, [message('1')]);
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), sink: await configuredSink(c, {}), config: c, logger });
    closers.push(() => worker.stop());
    const started = Date.now();
    worker.start();
    await until(() => worker.counters.acknowledged === 1);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(endpoint.requests).toHaveLength(2);
    expect(worker.counters.retries).toBe(1);
    expect(prometheus(worker)).toContain('canvas_caliper_http_requests_total{status="timeout"} 1');
    expect(logs.join('\n')).toContain('no complete answer within 400 ms');
  });

  it('the retry budget ends a request in flight: a record whose deadline comes first is not held for HTTP_TIMEOUT_MS', async () => {
    endpoint = await testEndpoint(() => ({ status: 500, body: 'x'.repeat(50), trickleMs: 100 }));
    const sink = new CaliperHttpSink({ url: endpoint.url, token: (await import('../src/worker/token.js')).staticToken(TOKEN), timeoutMs: 10_000, maxEvents: 1, maxBytes: 1 << 20, lingerMs: 1, maxInFlight: 1 });
    closers.push(() => sink.close());
    const started = Date.now();
    const [out] = await Promise.allSettled([sink.put(record('1'), 'k', Date.now() + 500)]);
    expect(out.status).toBe('rejected');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('the worker says once that it stopped consuming while its sink is blocked, and once that it resumed', async () => {
    let blocked: string | undefined = 'the test sink refuses for now';
    const sink = { blocked: undefined as string | undefined, put: async () => {}, drain: async () => {} };
    Object.defineProperty(sink, 'blocked', { get: () => blocked });
    const c = loadConfig({ SQS_QUEUE_URL: QUEUE, AWS_REGION: 'us-east-1', SINK: 'caliper-http', CALIPER_ENDPOINT_URL: 'https://lrs.example.edu/caliper', CALIPER_ENDPOINT_TOKEN: TOKEN, POLLERS: '2' });
    queueMessages(sqsMock, [message('1')]);
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), sink: () => sink, config: c, logger });
    closers.push(() => worker.stop());
    worker.start();
    await wait(1_200);
    expect(worker.counters.received).toBe(0);
    blocked = undefined;
    await until(() => worker.counters.acknowledged === 1);
    const said = logs.map((l) => JSON.parse(l).msg as string);
    expect(said.filter((m) => m.startsWith('stopped consuming: the test sink refuses for now'))).toHaveLength(1);
    expect(said.filter((m) => m === 'resumed consuming: the sink accepts again')).toHaveLength(1);
  });

  it('a Retry-After past the retry budget releases the message for as long as the endpoint asked, not the usual back-off', async () => {
    endpoint = await testEndpoint(() => ({ status: 503, headers: { 'retry-after': '120' } }));
    const c = loadConfig({ SQS_QUEUE_URL: QUEUE, AWS_REGION: 'us-east-1', SINK: 'caliper-http', CALIPER_ENDPOINT_URL: endpoint.url, CALIPER_ENDPOINT_TOKEN: TOKEN, RETRY_BUDGET_MS: '2000', HTTP_TIMEOUT_MS: '500', POLLERS: '1', HTTP_BATCH_LINGER_MS: '5' });
    const sink = await sinkOf(c);
    const [out] = await Promise.allSettled([sink.put(record('1'), 'k', Date.now() + 2000)]);
    expect(out).toMatchObject({ status: 'rejected', reason: { retryAfterMs: 120_000 } });
    expect((out as PromiseRejectedResult).reason).toBeInstanceOf(PublishError);
    queueMessages(sqsMock, [message('1')]);
    const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), sink: await configuredSink(c, {}), config: c, logger });
    closers.push(() => worker.stop());
    worker.start();
    await until(() => worker.counters.released === 1);
    const [entry] = sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).flatMap((call) => call.args[0].input.Entries!);
    expect(entry).toMatchObject({ ReceiptHandle: 'rh-1', VisibilityTimeout: 120 });
    expect(logs.join('\n')).toContain('the destination asked to be tried again later; left in SQS');
  });
});
