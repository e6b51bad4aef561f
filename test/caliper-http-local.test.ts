// `npm start` with SINK=caliper-http and no endpoint: a local Caliper endpoint that checks the token,
// the media type and every event with our validator; the samples all arrive there.
import { expect, it } from 'vitest';
import { mapJson } from '../src/engine.js';
import { startLocalEndpoint } from '../src/worker/local-endpoint.js';
import { userEvent } from './helpers.js';
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
