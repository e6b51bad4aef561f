// kill -9 of a worker publishing to a Caliper endpoint, mid-batch: nothing is lost (a message is
// deleted only after the endpoint answered 2xx for it), duplicates carry the same event ids.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mapJson } from '../src/engine.js';
import { createQueues, enqueue, LOCAL_CREDENTIALS, LOCAL_REGION, queueDepth, startLocalSqs, type LocalSqs } from '../src/worker/local.js';
import { userEvent } from './helpers.js';
import { testEndpoint, type TestEndpoint } from './http-endpoint.js';
import { exited, startCli, until } from './local.js';

const TOKEN = 'tok-kill9-5d1e0c3b8a';
let sqs: LocalSqs;
let endpoint: TestEndpoint;
/** Phase 1: the first two envelopes are accepted, every later one hangs (the worker is killed meanwhile). */
let hang = true;

beforeAll(async () => {
  sqs = await startLocalSqs();
  endpoint = await testEndpoint((_, n) => (hang && n > 2 ? 'hang' : { status: 200 }));
});
afterAll(async () => {
  await endpoint.close();
  await sqs.stop();
});

it('loses nothing when the worker is killed with -9 mid-batch; redelivered events keep their ids', async () => {
  const { queueUrl, dlqUrl } = await createQueues(sqs.sqs, 'kill9');
  const bodies = Array.from({ length: 120 }, (_, i) => JSON.stringify(userEvent('wiki_page_created', { wiki_page_id: String(i), title: `Page ${i}` })));
  await enqueue(sqs.sqs, queueUrl, bodies);
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    AWS_REGION: LOCAL_REGION,
    AWS_ENDPOINT_URL_SQS: sqs.sqsEndpoint,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    SQS_QUEUE_URL: queueUrl,
    DLQ_URL: dlqUrl,
    SINK: 'caliper-http',
    CALIPER_ENDPOINT_URL: endpoint.url,
    CALIPER_ENDPOINT_TOKEN: TOKEN,
    HTTP_BATCH_MAX_EVENTS: '20',
    HTTP_TIMEOUT_MS: '3000',
    RETRY_BUDGET_MS: '7000',
    VISIBILITY_TIMEOUT_S: '10',
    HEARTBEAT_INTERVAL_S: '2',
    RECEIVE_WAIT_TIME_S: '1',
    HEALTH_PORT: '0',
    LOG_LEVEL: 'warn',
  };
  const first = startCli(['run'], env);
  await until(async () => endpoint.requests.length >= 4, 10_000);
  const acceptedBeforeKill = new Set(endpoint.delivered);
  first.kill('SIGKILL');
  await exited(first);
  // Killed mid-batch: some envelopes were accepted (two), later ones were open.
  expect(acceptedBeforeKill.size).toBeGreaterThan(0);
  expect(acceptedBeforeKill.size).toBeLessThanOrEqual(40);

  hang = false;
  const second = startCli(['run'], env);
  try {
    // What the first worker had in flight comes back once its visibility timeout (10 s) runs out.
    await until(async () => new Set(endpoint.delivered).size === 120 && (await queueDepth(sqs.sqs, queueUrl)) === 0, 25_000);
  } finally {
    second.kill('SIGTERM');
    await exited(second);
  }
  const ids = new Set(bodies.map((b) => mapJson(b).data[0].id));
  expect(new Set(endpoint.delivered)).toEqual(ids);
  expect(await queueDepth(sqs.sqs, dlqUrl)).toBe(0);
  expect(first.out.stderr + second.out.stderr + second.out.stdout).not.toContain(TOKEN);
}, 45_000);
