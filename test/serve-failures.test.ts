// `serve` where the input is hostile or a peer misbehaves (issue 26, items 1, 3, 5–9 and 10's crit and
// alg reasons), against real servers on loopback: what it enqueues is the text Instructure signed, or
// is refused as the worker refuses it; every SQS attribute we write is one SQS accepts; every request is
// answered; /healthz sees an SQS that hangs or refuses everything; the JWKS is read within bounds, its
// keys outlive an outage for a bounded time, only over verified TLS; a broken stdout pipe does not hold
// SIGTERM; crit and alg refusals say what happened.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CompactSign, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import pino from 'pino';
import { CreateQueueCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { deterministicEventId } from '../src/engine.js';
import { MappingError } from '../src/errors.js';
import { tooDeepPath, withoutMembers } from '../src/json.js';
import { startServe, type Serving } from '../src/ingest/command.js';
import { loadServeConfig } from '../src/ingest/config.js';
import { post } from '../src/ingest/local.js';
import { createIngest } from '../src/ingest/server.js';
import { ATTRIBUTE_MAX_BYTES, SQS_MESSAGE_MAX_BYTES, sqsAttributeText } from '../src/sqs-text.js';
import { decodeMessage } from '../src/worker/decode.js';
import { Faults } from '../src/worker/faults.js';
import { createQueues, freePort, LOCAL_REGION, startLocalSqs, type LocalSqs } from '../src/worker/local.js';
import { sendToDlq } from '../src/worker/sqs.js';
import { prng, userEvent } from './helpers.js';
import { drainQueue, exited, gate, startCli, until } from './local.js';

const silent = pino({ level: 'silent' });
const errorOf = (text: string) => (JSON.parse(text) as { error: string }).error;

/** SQS's characters (XML 1.0): anything else in a value makes SQS refuse the call. */
const SQS_VALID = /^[\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

let sqs: LocalSqs;
let rsa: { privateKey: CryptoKey; jwk: JWK };
let ec: { privateKey: CryptoKey; jwk: JWK };
let jwks: TestJwks;

beforeAll(async () => {
  sqs = await startLocalSqs();
  const key = async (alg: 'RS256' | 'ES256', kid: string) => {
    const { publicKey, privateKey } = await generateKeyPair(alg);
    return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
  };
  rsa = await key('RS256', 'rsa-1');
  ec = await key('ES256', 'ec-1');
  jwks = await startJwks(() => [rsa.jwk, ec.jwk]);
}, 30_000);
afterAll(async () => {
  await jwks?.close();
  await sqs?.stop();
});

/** Signs a payload given as its exact text (RS256 with rsa-1 unless told otherwise). */
function sign(text: string, header: Record<string, unknown> = { alg: 'RS256', kid: 'rsa-1' }, key?: CryptoKey, crit?: Record<string, boolean>): Promise<string> {
  return new CompactSign(new TextEncoder().encode(text)).setProtectedHeader(header as never).sign(key ?? rsa.privateKey, crit ? { crit } : undefined);
}

type JwksMode = 'ok' | 'down' | 'hang' | 'endless';
interface TestJwks {
  url: string;
  mode: JwksMode;
  fetches: number;
  close(): Promise<void>;
}

/** A JWKS on loopback that can be told to misbehave: answer 500, never answer, or send a body that never ends. */
async function startJwks(keys: () => JWK[], tls?: { key: Buffer; cert: Buffer }): Promise<TestJwks> {
  const state = { mode: 'ok' as JwksMode, fetches: 0 };
  const handler = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    state.fetches++;
    if (state.mode === 'down') return void res.writeHead(500).end();
    if (state.mode === 'hang') return;
    if (state.mode === 'endless') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":[],"pad":"');
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', pump);
      return pump();
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: keys() }));
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  return Object.assign(state, {
    url,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  });
}

async function serveOn(queueUrl: string, env: NodeJS.ProcessEnv = {}, logger = silent, client = sqs.sqs): Promise<Serving & { url: string; base: string }> {
  const config = loadServeConfig({ SQS_QUEUE_URL: queueUrl, AWS_REGION: LOCAL_REGION, CANVAS_JWKS_URL: jwks.url, PORT: '0', JWKS_COOLDOWN_S: '0', ...env });
  const serving = await startServe(config, client, logger);
  const base = `http://127.0.0.1:${serving.port}`;
  return Object.assign(serving, { url: `${base}${config.INGEST_PATH}`, base });
}

const health = async (base: string) => {
  const res = await fetch(`${base}/healthz`);
  return { status: res.status, reason: ((await res.json()) as { reason?: string }).reason };
};

/** What the worker makes of a body it receives over SQS: the event id, or its refusal. */
function worker(body: string): { id: string } | { error: string } {
  try {
    return { id: decodeMessage(body, {}).envelope.data[0]!.id };
  } catch (err) {
    if (err instanceof MappingError) return { error: err.message };
    throw err;
  }
}

const FIXTURES = path.join(import.meta.dirname, 'fixtures/events');
const documented = fs.readdirSync(FIXTURES).map((f) => [f, (JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8')) as { raw: unknown }).raw] as const);
const score = (literal: string) => JSON.stringify(userEvent('grade_change', { submission_id: '1', assignment_id: '2', score: 0 })).replace('"score":0', `"score":${literal}`);
const deep = JSON.stringify(userEvent('wiki_page_created', { wiki_page_id: '1' })).replace('"wiki_page_id":"1"', `"wiki_page_id":"1","deep":${'['.repeat(5000)}${']'.repeat(5000)}`);

describe('serve enqueues the text Instructure signed, or refuses it as the worker would', () => {
  const now = () => Math.floor(Date.now() / 1000);
  // Every documented example as written (indented) and compact with the JWT's own claims in front (left out
  // of what is enqueued); every number form test/hardening.test.ts uses; a __proto__ member; too deep.
  const cases: [string, string, { claims?: boolean }][] = [
    ...documented.map(([f, raw]) => [`${f}, indented`, JSON.stringify(raw, null, 2), {}] as [string, string, object]),
    ...documented.map(([f, raw]) => [`${f}, with iat and exp`, JSON.stringify(raw), { claims: true }] as [string, string, object]),
    ...['21070000000000565', '1e400', '1e-400', '0.12345678901234567891', '95.5', '1e2', '100.0', '0.30000000000000004', '9007199254740992'].map(
      (literal) => [`score ${literal}`, score(literal), { claims: true }] as [string, string, object],
    ),
    ['a __proto__ member', '{"metadata":' + JSON.stringify(userEvent('module_created', {}).metadata) + ',"body":{"module_id":"1","__proto__":{"a":1},"x":{"__proto__":"y"}},"__proto__":{"top":1}}', {}],
    ['5,000 levels deep', deep, {}],
    // jose reads past a byte order mark; the worker's JSON.parse does not.
    ['a byte order mark', `\uFEFF${score('1')}`, {}],
  ];

  it(`round-trips ${cases.length} signed texts to the bytes the worker maps over SQS (same event id), or refuses them with the worker's reason`, async () => {
    const { queueUrl } = await createQueues(sqs.sqs, 'serve-exact');
    const serving = await serveOn(queueUrl, { ENQUEUE_LINGER_MS: '2' });
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
      const answers = await Promise.all(
        cases.map(async ([, text, o]) => post(serving.url, await sign(o.claims ? `{"iat":${now()},"exp":${now() + 600},"jti":"j-1",${text.slice(1)}` : text), agent)),
      );
      agent.destroy();
      const received = new Map((await drainQueue(sqs.sqs, queueUrl)).map((m) => [m.body, m]));
      let enqueued = 0;
      cases.forEach(([what, text], i) => {
        const answer = answers[i]!;
        const expected = worker(text);
        if ('error' in expected) {
          // The worker's reason, without its "event <name>: " prefix, is serve's.
          expect({ what, status: answer.status }).toEqual({ what, status: 400 });
          expect(errorOf(answer.text), what).toContain(expected.error.replace(/^event [^:]+: /, ''));
          return;
        }
        enqueued++;
        expect({ what, status: answer.status }).toEqual({ what, status: 200 });
        const message = received.get(text);
        expect(message, `${what}: enqueued as signed`).toBeDefined();
        expect(worker(message!.body), what).toEqual(expected);
        expect(message!.attributes.event_name, what).toBe((JSON.parse(text) as { metadata: { event_name: string } }).metadata.event_name);
      });
      expect(received.size).toBe(enqueued);
      expect(enqueued).toBe(documented.length * 2 + 6);
      // The __proto__ members reach the worker as data.
      expect([...received.keys()].some((body) => body.endsWith('"__proto__":{"top":1}}'))).toBe(true);
    } finally {
      await serving.stop();
    }
  }, 60_000);

  it('a payload that is not UTF-8 is refused, not repaired', async () => {
    const { queueUrl } = await createQueues(sqs.sqs, 'serve-utf8');
    const serving = await serveOn(queueUrl);
    try {
      const bytes = Buffer.concat([Buffer.from('{"metadata":{"event_name":"logged_in"},"body":{"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
      const token = await new CompactSign(bytes).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(rsa.privateKey);
      expect((await post(serving.url, token)).status).toBe(400);
      expect(await drainQueue(sqs.sqs, queueUrl)).toEqual([]);
    } finally {
      await serving.stop();
    }
  });
});

describe('the text rules serve shares with the worker', () => {
  const CLAIMS = new Set(['iat', 'exp']);

  it.each([
    ['claims first, last, and only', '{"iat":1,"a":1,"exp":2}', '{"a":1}'],
    ['only claims', '{"iat":1}', '{}'],
    ['whitespace inside members kept, nested claims kept', '{ "iat" : 1 , "a" : [1, {"iat": 2}] , "b":{ "exp":3 } }', '{ "a" : [1, {"iat": 2}],"b":{ "exp":3 } }'],
    ['quotes, brackets and commas inside strings', '{"a":"x\\"}{,[","iat":"]}","b":"\\\\"}', '{"a":"x\\"}{,[","b":"\\\\"}'],
    ['a claim name written with an escape is the claim', '{"i\\u0061t":1,"b":2}', '{"b":2}'],
    ['duplicate names', '{"a":1,"iat":1,"a":2,"iat":3}', '{"a":1,"a":2}'],
    ['no claim: the text as it is', '{ "a" :1e400 , "b":"\\u0000" }', '{ "a" :1e400 , "b":"\\u0000" }'],
  ])('withoutMembers: %s', (_what, text, expected) => expect(withoutMembers(text, CLAIMS)).toBe(expected));

  it('withoutMembers: random objects lose exactly the named top-level members, and keep every other value', () => {
    const random = prng(26);
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.3) return [1.5, -0, 'a"b\\c', '}{][,:', null, true, '\u2028'][Math.floor(random() * 7)];
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, () => [['iat', 'exp', 'a', 'b c', '"', 'iat '][Math.floor(random() * 6)]!, value(depth + 1)]));
    };
    for (let i = 0; i < 300; i++) {
      const object = Object.fromEntries(Array.from({ length: 1 + Math.floor(random() * 6) }, () => [['iat', 'exp', 'metadata', 'body', 'x'][Math.floor(random() * 5)]!, value(1)]));
      const text = JSON.stringify(object, null, random() < 0.5 ? 2 : undefined);
      const rest = Object.fromEntries(Object.entries(JSON.parse(text) as object).filter(([k]) => !CLAIMS.has(k)));
      expect(JSON.parse(withoutMembers(text, CLAIMS))).toEqual(rest);
    }
  });

  it.each([62, 63, 64, 65])('tooDeepPath: an event nested %i levels below body is refused exactly when the worker refuses it', (levels) => {
    const raw = { metadata: { event_name: 'logged_in' }, body: { deep: JSON.parse('['.repeat(levels) + ']'.repeat(levels)) } };
    const workerRefuses = (() => {
      try {
        deterministicEventId(raw);
        return false;
      } catch {
        return true;
      }
    })();
    expect(tooDeepPath(raw) !== undefined).toBe(workerRefuses);
  });
});

describe('every request is answered', () => {
  it('a signed event nested 5,000 levels deep: 400 with the field, as the worker refuses it, counted', async () => {
    const { queueUrl } = await createQueues(sqs.sqs, 'serve-deep');
    const serving = await serveOn(queueUrl);
    try {
      const answer = await post(serving.url, await sign(deep));
      expect(answer.status).toBe(400);
      expect(errorOf(answer.text)).toMatch(/the worker would refuse it: body\.deep(\[0\])+: nested more than 64 levels deep/);
      expect(serving.ingest.counts.not_canvas_event).toBe(1);
    } finally {
      await serving.stop();
    }
  });

  it('a failure of ours after the body was read: 503 internal_error, counted, logged by name only, the connection usable', async () => {
    const lines: string[] = [];
    const ingest = createIngest({
      verify: Object.assign(async () => ({ body: '{}', eventName: 'logged_in' }), { warm: async () => {}, close: async () => {} }),
      enqueuer: {
        send: async () => {
          throw new TypeError('a detail of the event');
        },
      },
      faults: new Faults(silent),
      logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }),
      ingestPath: '/',
      bodyLimitBytes: 4096,
      unhealthyAfterS: 30,
      keepAliveTimeoutS: 5,
    });
    await new Promise<void>((r) => ingest.server.listen(0, '127.0.0.1', r));
    const agent = new http.Agent({ keepAlive: true });
    try {
      const url = `http://127.0.0.1:${(ingest.server.address() as AddressInfo).port}/`;
      for (let i = 0; i < 2; i++) {
        const answer = await post(url, 'a.b.c', agent);
        expect([answer.status, errorOf(answer.text)]).toEqual([503, 'not enqueued: internal error, retry later']);
      }
      expect(ingest.counts.internal_error).toBe(2);
      expect(ingest.inFlight).toBe(0);
      expect(lines.join('')).toContain('"error":"TypeError"');
      expect(lines.join('')).not.toContain('a detail of the event');
    } finally {
      agent.destroy();
      await ingest.close(1_000);
    }
  });
});

describe('SQS message attributes are valid by SQS rules', () => {
  it.each([
    ['plain', 'logged_in', 'logged_in'],
    ['tab, newline, carriage return kept', 'a\tb\nc\rd', 'a\tb\nc\rd'],
    ['NUL and other C0 controls replaced', 'a\u0000b\u0007c\u001fd', 'a\uFFFDb\uFFFDc\uFFFDd'],
    ['U+FFFE and U+FFFF replaced', 'a\uFFFEb\uFFFF', 'a\uFFFDb\uFFFD'],
    ['lone surrogates replaced, a pair kept', 'a\uD800b\uDC00c😀', 'a\uFFFDb\uFFFDc😀'],
    ['the last character before U+E000 and after', '\uD7FF\uE000\uFFFD', '\uD7FF\uE000\uFFFD'],
    ['empty', '', '(empty)'],
  ])('%s', (_what, input, expected) => {
    expect(sqsAttributeText(input)).toBe(expected);
    expect(sqsAttributeText(input)).toMatch(SQS_VALID);
  });

  it('is cut to its limit in UTF-8 bytes on a code point boundary (a surrogate pair is never split), the cut marked', () => {
    for (let pad = 0; pad < 4; pad++) {
      const cut = sqsAttributeText('x'.repeat(pad) + '😀'.repeat(50), 64);
      expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(64);
      expect(cut).toMatch(SQS_VALID);
      expect(cut.endsWith('…')).toBe(true);
      expect(Buffer.from(cut, 'utf8').toString('utf8')).toBe(cut);
    }
    expect(Buffer.byteLength(sqsAttributeText('é'.repeat(10_000)))).toBeLessThanOrEqual(ATTRIBUTE_MAX_BYTES);
  });

  it("serve's event_name attribute: the characters SQS refuses replaced; the body keeps the event as signed", async () => {
    const { queueUrl } = await createQueues(sqs.sqs, 'serve-attr');
    const serving = await serveOn(queueUrl);
    try {
      const text = '{"metadata":{"event_name":"logged_in\\u0000\\ud800\\uffff\\u0007"},"body":{}}';
      expect((await post(serving.url, await sign(text))).status).toBe(200);
      const [message] = await drainQueue(sqs.sqs, queueUrl);
      expect(message!.body).toBe(text);
      expect(message!.attributes.event_name).toBe('logged_in\uFFFD\uFFFD\uFFFD\uFFFD');
    } finally {
      await serving.stop();
    }
  });

  it("the worker's DLQ attributes (error_code, error_message, event_name, original_message_id): valid, and the message within 1 MiB", async () => {
    const { dlqUrl } = await createQueues(sqs.sqs, 'dlq-attr');
    // An original message as large as SQS allows, less a little: our attributes must still fit.
    const body = JSON.stringify({ metadata: { event_name: 'logged_in' }, body: { pad: 'x'.repeat(SQS_MESSAGE_MAX_BYTES - 600) } });
    const original: Message = { MessageId: 'id\u0000\uFFFF', Body: body, Attributes: { ApproximateReceiveCount: '3' }, MessageAttributes: { event_name: { DataType: 'String', StringValue: 'logged_in' } } };
    await sendToDlq(sqs.sqs, dlqUrl, original, { code: 'INVALID\u0001', message: `answer: ${'\uD800\u0000\uFFFE'.repeat(3_000)}`, eventName: 'logged\uDFFFin' });
    const out = await sqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 0 }));
    const attributes = out.Messages![0]!.MessageAttributes!;
    for (const name of ['error_code', 'error_message', 'event_name', 'original_message_id']) expect(attributes[name]!.StringValue, name).toMatch(SQS_VALID);
    expect([attributes.error_code!.StringValue, attributes.event_name!.StringValue, attributes.original_message_id!.StringValue]).toEqual(['INVALID\uFFFD', 'logged\uFFFDin', 'id\uFFFD\uFFFD']);
    expect(attributes.error_message!.StringValue).toMatch(/^answer: \uFFFD+…$/);
    const size = Object.entries(attributes).reduce((n, [k, a]) => n + k.length + a.DataType!.length + Buffer.byteLength(a.StringValue ?? ''), Buffer.byteLength(out.Messages![0]!.Body!));
    expect(size).toBeLessThanOrEqual(SQS_MESSAGE_MAX_BYTES);
  });
});

describe('/healthz sees an SQS that hangs or refuses every entry; every SendMessageBatch has a deadline', () => {
  it('SQS accepts connections and never answers: 503 within the budget, /healthz 503 after UNHEALTHY_AFTER_S; 200 again once SQS answers', async () => {
    const { queueUrl } = await createQueues(sqs.sqs, 'serve-hang');
    const relay = await gate(sqs.sqsEndpoint);
    const { createClients } = await import('../src/worker/clients.js');
    const through = createClients({ region: LOCAL_REGION, sqsEndpoint: relay.url, credentials: { accessKeyId: '000000000000', secretAccessKey: 'local' } });
    const serving = await serveOn(queueUrl, { ENQUEUE_RETRY_BUDGET_MS: '300', UNHEALTHY_AFTER_S: '1' }, silent, through.sqs);
    try {
      relay.hold();
      const started = Date.now();
      expect((await post(serving.url, await sign(score('1')))).status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(relay.held()).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 1_200));
      const sick = await health(serving.base);
      expect(sick.status).toBe(503);
      expect(sick.reason).toMatch(/SendMessageBatch has failed for \d+ s \(network: TimeoutError: no answer within \d+ ms\)/);
      relay.release();
      expect((await post(serving.url, await sign(score('2')))).status).toBe(200);
      expect((await health(serving.base)).status).toBe(200);
    } finally {
      await serving.stop();
      await relay.close();
      through.sqs.destroy();
      through.kinesis.destroy();
    }
  });

  it('SQS refuses every entry (messages over the queue’s size limit): /healthz 503 after UNHEALTHY_AFTER_S; 200 again once one is accepted', async () => {
    const queueUrl = (await sqs.sqs.send(new CreateQueueCommand({ QueueName: 'serve-refused', Attributes: { MaximumMessageSize: '1024' } }))).QueueUrl!;
    const serving = await serveOn(queueUrl, { ENQUEUE_RETRY_BUDGET_MS: '300', UNHEALTHY_AFTER_S: '1' });
    try {
      const large = JSON.stringify(userEvent('logged_in', { pad: 'x'.repeat(2_000) }));
      expect((await post(serving.url, await sign(large))).status).toBe(503);
      await new Promise((r) => setTimeout(r, 1_200));
      expect((await post(serving.url, await sign(large))).status).toBe(503);
      const sick = await health(serving.base);
      expect(sick.status).toBe(503);
      expect(sick.reason).toMatch(/SendMessageBatch has failed for \d+ s \(other: InvalidParameterValue: every entry refused/);
      expect((await post(serving.url, await sign(score('1')))).status).toBe(200);
      expect((await health(serving.base)).status).toBe(200);
    } finally {
      await serving.stop();
    }
  });
});

describe('the JWKS: cached keys outlive an outage for a bounded time; a read never holds a request while keys are held; its size is bounded', () => {
  it('down after the cache age: still verified with the held keys until JWKS_STALE_MAX_AGE_S, then 503; verified again once it is back', async () => {
    const { queueUrl } = await createQueues(sqs.sqs, 'jwks-stale');
    const own = await startJwks(() => [rsa.jwk]);
    const lines: string[] = [];
    const serving = await serveOn(queueUrl, { CANVAS_JWKS_URL: own.url, JWKS_CACHE_MAX_AGE_S: '1', JWKS_STALE_MAX_AGE_S: '2' }, pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }));
    try {
      expect((await post(serving.url, await sign(score('1')))).status).toBe(200);
      own.mode = 'down';
      await new Promise((r) => setTimeout(r, 1_100));
      // Past the cache age: the keys are re-read in the background (which fails), and still used.
      expect((await post(serving.url, await sign(score('2')))).status).toBe(200);
      await until(async () => lines.some((l) => l.includes('cannot read the JWKS (HTTP 500): verifying with the keys read')), 2_000);
      await new Promise((r) => setTimeout(r, 2_000));
      // Past the cache age and the stale age: no usable keys.
      const refused = await post(serving.url, await sign(score('3')));
      expect([refused.status, errorOf(refused.text)]).toEqual([503, 'cannot verify now: the JWKS is unavailable (HTTP 500)']);
      own.mode = 'ok';
      expect((await post(serving.url, await sign(score('4')))).status).toBe(200);
      expect(lines.some((l) => l.includes('the JWKS can be read again'))).toBe(true);
    } finally {
      await serving.stop();
      await own.close();
    }
  });

  it('an unknown kid makes it re-read at most once per JWKS_COOLDOWN_S, however many tokens name it at once', async () => {
    const { queueUrl } = await createQueues(sqs.sqs, 'jwks-cooldown');
    const own = await startJwks(() => [rsa.jwk]);
    const serving = await serveOn(queueUrl, { CANVAS_JWKS_URL: own.url, JWKS_COOLDOWN_S: '1' });
    try {
      const stranger = () => sign(score('1'), { alg: 'RS256', kid: 'rsa-new' });
      // Read at start: within the cooldown, no re-read.
      expect((await post(serving.url, await stranger())).status).toBe(401);
      expect(own.fetches).toBe(1);
      await new Promise((r) => setTimeout(r, 1_100));
      const answers = await Promise.all([1, 2, 3, 4, 5].map(async () => (await post(serving.url, await stranger())).status));
      expect(answers).toEqual([401, 401, 401, 401, 401]);
      expect(own.fetches).toBe(2);
    } finally {
      await serving.stop();
      await own.close();
    }
  });

  it('a JWKS that hangs adds no latency while keys are held (re-read in the background)', async () => {
    const { queueUrl } = await createQueues(sqs.sqs, 'jwks-hang');
    const own = await startJwks(() => [rsa.jwk]);
    const serving = await serveOn(queueUrl, { CANVAS_JWKS_URL: own.url, JWKS_CACHE_MAX_AGE_S: '1' });
    try {
      expect((await post(serving.url, await sign(score('1')))).status).toBe(200);
      own.mode = 'hang';
      await new Promise((r) => setTimeout(r, 1_100));
      const before = own.fetches;
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        expect((await post(serving.url, await sign(score(String(i + 2))))).status).toBe(200);
        expect(Date.now() - started).toBeLessThan(500);
      }
      // One background read, shared, still waiting.
      expect(own.fetches).toBe(before + 1);
    } finally {
      await serving.stop();
      await own.close();
    }
  });

  it('a JWKS document that never ends is cut at 1 MiB: an error, quickly, and the held keys kept', async () => {
    const { queueUrl } = await createQueues(sqs.sqs, 'jwks-huge');
    const own = await startJwks(() => [rsa.jwk]);
    own.mode = 'endless';
    const lines: string[] = [];
    const serving = await serveOn(queueUrl, { CANVAS_JWKS_URL: own.url }, pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }));
    try {
      expect(lines.some((l) => l.includes('cannot read the JWKS (the JWKS is over 1048576 bytes)'))).toBe(true);
      const started = Date.now();
      const refused = await post(serving.url, await sign(score('1')));
      expect([refused.status, errorOf(refused.text)]).toEqual([503, 'cannot verify now: the JWKS is unavailable (the JWKS is over 1048576 bytes)']);
      expect(Date.now() - started).toBeLessThan(2_000);
      own.mode = 'ok';
      expect((await post(serving.url, await sign(score('2')))).status).toBe(200);
      // Keys held; a new kid makes it re-read, and an endless document then leaves the held keys in place.
      own.mode = 'endless';
      const unknown = await post(serving.url, await sign(score('3'), { alg: 'RS256', kid: 'rsa-2' }));
      expect([unknown.status, errorOf(unknown.text)]).toEqual([503, 'cannot verify now: the JWKS is unavailable (the JWKS is over 1048576 bytes)']);
      expect((await post(serving.url, await sign(score('4')))).status).toBe(200);
    } finally {
      await serving.stop();
      await own.close();
    }
  });
});

describe('CANVAS_JWKS_URL: https, http only to loopback; TLS verified whatever NODE_TLS_REJECT_UNAUTHORIZED says', () => {
  it('another scheme, or http to another host, is a configuration error at start, among the other problems (exit 2)', async () => {
    for (const [jwksUrl, problem] of [
      ['http://jwks.example.edu/keys', 'CANVAS_JWKS_URL must be https (http only to a loopback address), not http://jwks.example.edu'],
      ['ftp://127.0.0.1/jwks', 'CANVAS_JWKS_URL must be https (http only to a loopback address), not ftp://127.0.0.1'],
      ['file:///etc/jwks.json', 'CANVAS_JWKS_URL must be https (http only to a loopback address), not file://'],
    ]) {
      let stderr = '';
      const code = await main(['serve'], { stdout: () => {}, stderr: (t: string) => void (stderr += t), stdin: () => [], env: { CANVAS_JWKS_URL: jwksUrl, PORT: 'x' } } as never);
      expect(code).toBe(2);
      expect(stderr).toContain(problem);
      expect(stderr).toContain('PORT must be a number');
      expect(stderr).not.toMatch(/\n\s+at /);
    }
    for (const ok of ['https://jwks.example.edu/keys', 'http://127.0.0.1:1/jwks', 'http://localhost:1/jwks', 'http://[::1]:1/jwks']) {
      expect(() => loadServeConfig({ SQS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q', AWS_REGION: 'us-east-1', CANVAS_JWKS_URL: ok })).not.toThrow();
    }
  });

  it('a self-signed JWKS is not trusted with NODE_TLS_REJECT_UNAUTHORIZED=0 (which the process default would obey)', async () => {
    const dir = path.join(import.meta.dirname, 'fixtures/tls');
    const own = await startJwks(() => [rsa.jwk], { key: fs.readFileSync(path.join(dir, 'self-signed.key')), cert: fs.readFileSync(path.join(dir, 'self-signed.crt')) });
    const { queueUrl } = await createQueues(sqs.sqs, 'jwks-tls');
    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    const serving = await serveOn(queueUrl, { CANVAS_JWKS_URL: own.url.replace('127.0.0.1', 'localhost') });
    try {
      // The control: the process's default fetch now trusts it.
      expect((await fetch(own.url)).status).toBe(200);
      const refused = await post(serving.url, await sign(score('1')));
      expect(refused.status).toBe(503);
      expect(errorOf(refused.text)).toMatch(/cannot verify now: the JWKS is unavailable \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|ERR_TLS_CERT_ALTNAME_INVALID)\)/);
    } finally {
      if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
      await serving.stop();
      await own.close();
    }
  });
});

describe('crit and alg refusals say what happened', () => {
  it('a crit extension this receiver does not implement: 400, naming crit (not "algorithm not accepted")', async () => {
    const { queueUrl } = await createQueues(sqs.sqs, 'serve-crit');
    const serving = await serveOn(queueUrl);
    try {
      const token = await sign(score('1'), { alg: 'RS256', kid: 'rsa-1', crit: ['x-ext'], 'x-ext': 1 }, undefined, { 'x-ext': true });
      const answer = await post(serving.url, token);
      expect([answer.status, errorOf(answer.text)]).toEqual([400, `the JWT header's crit names an extension this receiver does not implement ("x-ext"): the token must be refused`]);
    } finally {
      await serving.stop();
    }
  });

  it('a kid the JWKS has, for another algorithm: says so (not "no key has kid")', async () => {
    const { queueUrl } = await createQueues(sqs.sqs, 'serve-alg');
    const serving = await serveOn(queueUrl, { CANVAS_JWT_ALGORITHMS: 'RS256,ES256' });
    try {
      // Signed with the RSA key, but naming the EC key's kid.
      const answer = await post(serving.url, await sign(score('1'), { alg: 'RS256', kid: 'ec-1' }));
      expect([answer.status, errorOf(answer.text)]).toEqual([401, `the JWKS's key "ec-1" is not for algorithm "RS256" (it is a "EC" key for "ES256")`]);
      // An algorithm not accepted is refused before any key or signature is looked at.
      const [, payload, signature] = (await sign(score('1'))).split('.');
      const notAccepted = await post(serving.url, `${Buffer.from(JSON.stringify({ alg: 'PS256', kid: 'rsa-1' })).toString('base64url')}.${payload}.${signature}`);
      expect([notAccepted.status, errorOf(notAccepted.text)]).toEqual([401, 'algorithm "PS256" is not accepted (CANVAS_JWT_ALGORITHMS: RS256, ES256)']);
      expect((await post(serving.url, await sign(score('1'), { alg: 'ES256', kid: 'ec-1' }, ec.privateKey))).status).toBe(200);
    } finally {
      await serving.stop();
    }
  });
});

describe('a broken stdout pipe', () => {
  it('canvas-caliper serve with stdout a broken pipe still stops promptly on SIGTERM', async () => {
    const port = await freePort();
    const child = startCli(['serve'], { ...process.env, SQS_QUEUE_URL: 'http://127.0.0.1:1/000000000000/q', AWS_REGION: LOCAL_REGION, CANVAS_JWKS_URL: jwks.url, PORT: String(port), LOG_LEVEL: 'debug' });
    try {
      await until(async () => child.out.stdout.includes('serve listening'), 15_000);
      // The reader goes away: the next write to stdout meets EPIPE (the lines of the stop itself).
      child.stdout!.destroy();
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      child.kill('SIGTERM');
      expect(await Promise.race([exited(child), new Promise((r) => setTimeout(() => r('still running 5 s after SIGTERM'), 5_000))])).toBe(0);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});
