// `npm start` with SINK=caliper-http and no endpoint: a local Caliper endpoint that checks the token,
// the media type and every event with our validator; the samples all arrive there.
import { expect, it } from 'vitest';
import { mapJson } from '../src/engine.js';
import { startLocalEndpoint } from '../src/worker/local-endpoint.js';
import { userEvent } from './helpers.js';
import { testEndpoint } from './http-endpoint.js';
import { exited, startCli } from './local.js';

it('the local endpoint answers 401 without the token, 415 for another media type, 400 naming an invalid event, 200 otherwise', async () => {
  const endpoint = await startLocalEndpoint('t0ken', 'caliper-1.2');
  const good = mapJson(JSON.stringify(userEvent('wiki_page_created', { wiki_page_id: '1', title: 'P' })), { format: 'caliper-1.2' });
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(endpoint.url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: 'Bearer t0ken', ...headers } }).then(async (r) => [r.status, await r.text()]);
  try {
    expect((await post(good, { authorization: 'Bearer nope' }))[0]).toBe(401);
    expect((await post(good, { 'content-type': 'text/plain' }))[0]).toBe(415);
    const broken = { ...good, data: [good.data[0], { ...good.data[0], action: 'Flew' }] };
    const [status, text] = await post(broken);
    expect(status).toBe(400);
    expect(JSON.parse(text as string).error).toMatch(/^data\[1\]: /);
    expect((await post({ ...good, data: [good.data[0], good.data[0]] }))[0]).toBe(200);
    expect(endpoint.records.map((r) => JSON.parse(r).data)).toEqual([[good.data[0]], [good.data[0]]]);
  } finally {
    await endpoint.stop();
  }
});

it('npm start with SINK=caliper-http publishes every sample event type to the local endpoint, and the DLQ stays empty', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', SINK: 'caliper-http' };
  delete env.SQS_QUEUE_URL;
  delete env.CALIPER_ENDPOINT_URL;
  const cli = startCli(['run'], env);
  expect(await exited(cli)).toBe(0);
  expect(cli.out.stdout).toContain('a local Caliper endpoint');
  expect(cli.out.stdout).toContain('from the local Caliper endpoint:');
  expect(cli.out.stdout).toContain('Canvas event types published: 82 of the 82 enqueued.');
  expect(cli.out.stdout).toContain('Dead-letter queue: 0 message(s).');
}, 60_000);

/** `npm start`'s environment with SINK=caliper-http and these variables (no queue: the embedded run). */
const demoEnv = (vars: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', SINK: 'caliper-http', ...vars };
  for (const name of ['SQS_QUEUE_URL', ...Object.keys(process.env).filter((k) => k.startsWith('CALIPER_ENDPOINT_'))]) if (!(name in vars)) delete env[name];
  return env;
};

it('npm start with LOCAL_ENDPOINT_AUTH=oauth: the local endpoint is its own token endpoint, issuing tokens that live 2 s, and every sample arrives', async () => {
  const cli = startCli(['run'], demoEnv({ LOCAL_ENDPOINT_AUTH: 'oauth' }));
  expect(await exited(cli)).toBe(0);
  expect(cli.out.stdout).toContain('Canvas event types published: 82 of the 82 enqueued.');
  expect(cli.out.stdout).toMatch(/OAuth 2\.0: the local token endpoint issued [1-9]\d* token\(s\), each for 2 s\./);
}, 60_000);

it('npm start against an endpoint that refuses the token ends at once, exit 1, with one line saying what failed and what to check', async () => {
  const endpoint = await testEndpoint(() => ({ status: 401, body: '{"error":"invalid_token"}' }));
  try {
    const started = Date.now();
    const cli = startCli(['run'], demoEnv({ CALIPER_ENDPOINT_URL: endpoint.url, CALIPER_ENDPOINT_TOKEN: 'wrong-token-0123456789', LOG_LEVEL: 'info' }));
    expect(await exited(cli)).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    const lines = cli.out.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^canvas-caliper run: nothing more is sent to the Caliper endpoint http:\/\/127\.0\.0\.1:\d+\/caliper: the Caliper endpoint refused our credentials \(HTTP 401\), also with a token read or fetched anew: check the token/);
    // The stop line says what became of the messages: none was published.
    const logged = cli.out.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string });
    expect(logged.find((l) => l.msg.startsWith('stopped;'))?.msg).toMatch(/^stopped; (nothing left in flight: 0 published, [1-9]\d* left in SQS to come back, 0 sent to the DLQ|unfinished messages were made visible again in SQS)$/);
    expect(logged.filter((l) => l.msg.startsWith('stopped consuming: the Caliper endpoint refused our credentials (HTTP 401)'))).toHaveLength(1);
    expect(cli.out.stdout + cli.out.stderr).not.toContain('everything in flight was published');
    expect(cli.out.stdout + cli.out.stderr).not.toContain('retry budget');
    expect(cli.out.stdout + cli.out.stderr).not.toContain('wrong-token-0123456789');
  } finally {
    await endpoint.close();
  }
}, 60_000);

it('npm start against a dead endpoint gives up once it has failed for the retry budget (at most 15 s), exit 1, naming what to check', async () => {
  const endpoint = await testEndpoint(() => ({ status: 200 }));
  const url = endpoint.url;
  await endpoint.close(); // nothing listens there any more
  const cli = startCli(['run'], demoEnv({ CALIPER_ENDPOINT_URL: url, CALIPER_ENDPOINT_TOKEN: 'some-token-0123456789', RETRY_BUDGET_MS: '3000', HTTP_TIMEOUT_MS: '500' }));
  const started = Date.now();
  expect(await exited(cli)).toBe(1);
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(cli.out.stderr.trim().split('\n').at(-1)).toMatch(/^canvas-caliper run: the Caliper endpoint http:\/\/127\.0\.0\.1:\d+\/caliper has failed for \d+ s with no success \(last: .*(ECONNREFUSED|no complete answer within).*\): check CALIPER_ENDPOINT_URL and that the endpoint is up$/);
}, 60_000);
