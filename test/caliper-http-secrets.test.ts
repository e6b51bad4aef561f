// The grep test of issue 26: no fragment (10 characters or more) of any secret the HTTP sink holds —
// the bearer token, OAuth access tokens, the client secret, the endpoint URL's query key, an extra
// header's value — raw, JSON-escaped or percent-encoded, in any log line, metric, DLQ attribute or
// `map --post` output, for every failure scenario: an endpoint that echoes what it got (in every
// form), one that echoes it across the 500-byte cut, a redirect carrying the URL, a token endpoint
// that echoes the client secret.
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { prometheus } from '../src/worker/observe.js';
import { redact } from '../src/worker/redact.js';
import { configuredSink } from '../src/worker/sink.js';
import { Worker } from '../src/worker/worker.js';
import { queueOf, userEvent } from './helpers.js';
import { testEndpoint, testTokenEndpoint, type Received } from './http-endpoint.js';

const TOKEN = 'tok/3f9a+1c77=e2b1/4d0d9b5e"x';
const QUERY_KEY = 'qk-7c1f3e9a/2b5d 8e0f';
const HEADER_VALUE = 'hv-91ab2c3d/4e5f6a7b';
const CLIENT_ID = 'client-04f2';
const CLIENT_SECRET = 'cs-e5d4c3b2/a1f0+9e8d';
const QUEUE = 'http://localhost:9324/000000000000/canvas';
const DLQ = 'http://localhost:9324/000000000000/canvas-dlq';
const sqsMock = mockClient(SQSClient);

/** Every way a peer may write a secret back. */
const forms = (s: string): string[] => [
  s,
  JSON.stringify(s).slice(1, -1),
  JSON.stringify(s).slice(1, -1).replaceAll('/', '\\/'),
  [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
  encodeURIComponent(s),
  encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  new URLSearchParams({ k: s }).toString().slice(2),
];

/** What the echoing endpoint writes back: everything it was sent that could be secret, in every form. */
const echo = (r: Received): string => {
  const got = [r.headers.authorization ?? '', String(r.headers['x-api-key'] ?? ''), r.url, new URLSearchParams(r.url.split('?')[1]).get('api_key') ?? '', /^Bearer (.*)$/.exec(r.headers.authorization ?? '')?.[1] ?? ''];
  return JSON.stringify({ error: 'refused', got: got.flatMap(forms) });
};

/** Every text that left the sink in all scenarios: log lines, metrics, DLQ attributes, CLI output. */
const seen: string[] = [];
const secrets = new Set([TOKEN, QUERY_KEY, HEADER_VALUE, CLIENT_SECRET]);
const logger = pino({ level: 'debug' }, { write: (line: string) => void seen.push(line) });
const page = (id: string) => JSON.stringify(userEvent('wiki_page_created', { wiki_page_id: id, title: `Page ${id}` }));
const message = (id: string): Message => ({ MessageId: `m-${id}`, ReceiptHandle: `rh-${id}`, Body: page(id), Attributes: { ApproximateReceiveCount: '1' } });

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  sqsMock.on(DeleteMessageBatchCommand).callsFake(async (input) => ({ Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] }));
});

async function until(check: () => boolean, ms = 8_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs a worker on `messages` against `url` until `done`, and keeps what it said (logs, metrics, DLQ attributes). */
async function scenario(url: string, env: Record<string, string>, done: (w: Worker) => boolean): Promise<void> {
  const c = loadConfig({
    SQS_QUEUE_URL: QUEUE,
    DLQ_URL: DLQ,
    AWS_REGION: 'us-east-1',
    SINK: 'caliper-http',
    CALIPER_ENDPOINT_URL: `${url}?api_key=${encodeURIComponent(QUERY_KEY)}`,
    CALIPER_ENDPOINT_HEADERS: JSON.stringify({ 'X-Api-Key': HEADER_VALUE }),
    HTTP_BATCH_LINGER_MS: '5',
    HTTP_TIMEOUT_MS: '300',
    RETRY_BUDGET_MS: '700',
    POLLERS: '1',
    ...env,
  });
  queueOf(sqsMock, [message('1'), message('2')]);
  const worker = new Worker({ sqs: new SQSClient({ region: 'us-east-1' }), sink: await configuredSink(c, {}), config: c, logger });
  worker.start();
  try {
    await until(() => done(worker));
  } finally {
    await worker.stop();
  }
  seen.push(prometheus(worker), JSON.stringify(sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input.MessageAttributes)));
}

const staticToken = { CALIPER_ENDPOINT_TOKEN: TOKEN };

describe('no secret leaves the HTTP sink, in any form', () => {
  afterAll(() => {
    // Sanity: the scenarios did say things (the endpoint's words reached the DLQ and the logs).
    const all = seen.join('\n');
    expect(all).toContain('[redacted]');
    expect(all).toContain('REFUSED_BY_ENDPOINT');
    for (const secret of secrets) {
      for (const form of forms(secret)) {
        for (let i = 0; i + 10 <= form.length; i++) expect(all, `a fragment of a secret (${form.slice(i, i + 10)})`).not.toContain(form.slice(i, i + 10));
      }
    }
  });

  it('an endpoint that refuses (400) and echoes every secret it got, in every form: the DLQ reason holds none', async () => {
    const endpoint = await testEndpoint((r) => ({ status: 400, body: echo(r) }));
    await scenario(endpoint.url, staticToken, (w) => w.counters.sentToDlq === 2);
    await endpoint.close();
  });

  it('an endpoint that echoes a secret across the 500-byte cut', async () => {
    for (const offset of [480, 490, 495, 499]) {
      const endpoint = await testEndpoint((r) => ({ status: 422, body: `${'.'.repeat(offset)}${/^Bearer (.*)$/.exec(r.headers.authorization!)![1]}${'.'.repeat(100)}` }));
      await scenario(endpoint.url, staticToken, (w) => w.counters.sentToDlq === 2);
      await endpoint.close();
    }
    // And across the 64 KiB read: the body is read that far, redacted, then cut.
    const endpoint = await testEndpoint((r) => ({ status: 400, body: `${'.'.repeat(64 * 1024 - 12)}${JSON.stringify(r.headers.authorization)}` }));
    await scenario(endpoint.url, staticToken, (w) => w.counters.sentToDlq === 2);
    await endpoint.close();
  });

  it('an endpoint that fails (500) echoing, and one that redirects with the URL: the logs hold none', async () => {
    const failing = await testEndpoint((r) => ({ status: 500, body: echo(r) }));
    await scenario(failing.url, staticToken, (w) => w.counters.released === 2);
    await failing.close();
    const redirecting = await testEndpoint((r) => ({ status: 307, headers: { location: `http://elsewhere.example${r.url}&again=${encodeURIComponent(TOKEN)}` } }));
    await scenario(redirecting.url, staticToken, (w) => w.counters.released === 2);
    await redirecting.close();
    expect(seen.join('\n')).toContain('redirect to http://elsewhere.example/caliper?api_key=[redacted]');
  });

  it('OAuth: an events endpoint that echoes the access token, and a token endpoint that echoes the client secret as it refuses', async () => {
    const issuer = await testTokenEndpoint({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, expiresIn: 3600 });
    const endpoint = await testEndpoint((r) => ({ status: 400, body: echo(r) }));
    const oauth = { CALIPER_ENDPOINT_TOKEN_URL: issuer.url, CALIPER_ENDPOINT_CLIENT_ID: CLIENT_ID, CALIPER_ENDPOINT_CLIENT_SECRET: CLIENT_SECRET };
    await scenario(endpoint.url, oauth, (w) => w.counters.sentToDlq === 2);
    for (const t of issuer.issued) secrets.add(t);
    const refusing = await testTokenEndpoint({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      answer: (_, r) => ({ status: 401, body: JSON.stringify({ error: 'invalid_client', error_description: `bad secret ${r.form.get('client_secret')} ${r.headers.authorization}` }) }),
    });
    await scenario(endpoint.url, { ...oauth, CALIPER_ENDPOINT_TOKEN_URL: refusing.url, CALIPER_ENDPOINT_AUTH_METHOD: 'client_secret_post' }, (w) => w.counters.released === 2);
    await scenario(endpoint.url, { ...oauth, CALIPER_ENDPOINT_TOKEN_URL: refusing.url }, (w) => w.counters.released === 2);
    expect(seen.join('\n')).toContain('refused our client credentials (HTTP 401 invalid_client)');
    await Promise.all([issuer.close(), refusing.close(), endpoint.close()]);
  });

  it('map --post against an echoing endpoint: stderr holds none', async () => {
    const endpoint = await testEndpoint((r) => ({ status: 400, body: echo(r) }));
    const { main } = await import('../src/cli.js');
    let out = '';
    const code = await main(['map', '--post', `${endpoint.url}?api_key=${encodeURIComponent(QUERY_KEY)}`], {
      stdout: (t) => void (out += t),
      stderr: (t) => void (out += t),
      stdin: () => [page('1')],
      env: { CALIPER_ENDPOINT_TOKEN: TOKEN, CALIPER_ENDPOINT_HEADERS: JSON.stringify({ 'X-Api-Key': HEADER_VALUE }) },
    });
    expect(code).toBe(1);
    expect(out).toContain('REFUSED_BY_ENDPOINT');
    seen.push(out);
    await endpoint.close();
  });

  it('redact finds a secret written in a mix of forms, and leaves other text alone', () => {
    const mixed = 'tok\\/3f9a%2B1c77\\u003de2b1/4d0d9b5e\\"x';
    expect(redact(`a ${mixed} b`, [TOKEN])).toBe('a [redacted] b');
    expect(redact('nothing secret here', [TOKEN, 'abc'])).toBe('nothing secret here');
  });
});
