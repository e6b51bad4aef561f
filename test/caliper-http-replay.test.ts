// replay-dlq --direct with SINK=caliper-http: the DLQ's messages published to a Caliper endpoint on
// loopback through the worker's HTTP sink; an event the endpoint refuses stays with REFUSED_BY_ENDPOINT.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { mapJson } from '../src/engine.js';
import { replayDlq } from '../src/replay/replay.js';
import { createQueues, enqueue, queueDepth, startLocalSqs, type LocalSqs } from '../src/worker/local.js';
import { configuredSink } from '../src/worker/sink.js';
import { userEvent } from './helpers.js';
import { testEndpoint, type TestEndpoint } from './http-endpoint.js';
import { drainQueue } from './local.js';

const TOKEN = 'tok-replay-0b6e2f4c1d';
let sqs: LocalSqs;
let endpoint: TestEndpoint;

beforeAll(async () => {
  sqs = await startLocalSqs();
  endpoint = await testEndpoint((r) => (r.envelope.data.some((e) => e.object.name === 'Page BAD') ? { status: 422, body: 'object.name: refused' } : { status: 200 }));
});
afterAll(async () => {
  await endpoint.close();
  await sqs.stop();
});

it('publishes what the endpoint accepts, deletes it from the DLQ, and leaves the refused event with REFUSED_BY_ENDPOINT', async () => {
  const { queueUrl, dlqUrl } = await createQueues(sqs.sqs, 'replay-http');
  const bodies = ['1', '2', 'BAD', '4'].map((title, i) => JSON.stringify(userEvent('wiki_page_created', { wiki_page_id: String(i), title: `Page ${title}` })));
  await enqueue(sqs.sqs, dlqUrl, bodies);
  const config = loadConfig({ SQS_QUEUE_URL: queueUrl, AWS_REGION: 'us-east-1', SINK: 'caliper-http', CALIPER_ENDPOINT_URL: endpoint.url, CALIPER_ENDPOINT_TOKEN: TOKEN, HTTP_BATCH_LINGER_MS: '5' });
  const summary = await replayDlq({ dlqUrl, mode: 'direct', config, receiveWaitS: 0, visibilityTimeoutS: 30 }, { sqs: sqs.sqs, sink: await configuredSink(config, {}) });
  expect(summary.published).toBe(3);
  expect(endpoint.delivered.sort()).toEqual([bodies[0]!, bodies[1]!, bodies[3]!].map((b) => mapJson(b).data[0].id).sort());
  expect(summary.stillFailing).toEqual([expect.objectContaining({ code: 'REFUSED_BY_ENDPOINT', reason: 'the Caliper endpoint refused this event: HTTP 422: object.name: refused' })]);
  const left = await drainQueue(sqs.sqs, dlqUrl);
  expect(left.map((m) => m.body)).toEqual([bodies[2]]);
  expect(left[0]!.attributes.error_code).toBe('REFUSED_BY_ENDPOINT');
  expect(JSON.stringify(left) + JSON.stringify(summary)).not.toContain(TOKEN);
  expect(await queueDepth(sqs.sqs, queueUrl)).toBe(0);
});

it('replay-dlq --direct takes OAuth 2.0 client credentials as the worker does', async () => {
  const { testTokenEndpoint } = await import('./http-endpoint.js');
  const issuer = await testTokenEndpoint({ clientId: 'replay-client', clientSecret: 'replay-secret-2c4e6a8b0d', expiresIn: 3600 });
  const oauthEndpoint = await testEndpoint((r) => (issuer.valid(r.headers.authorization) ? { status: 202 } : { status: 401 }));
  try {
    const { queueUrl, dlqUrl } = await createQueues(sqs.sqs, 'replay-http-oauth');
    const bodies = ['1', '2'].map((id) => JSON.stringify(userEvent('wiki_page_created', { wiki_page_id: id, title: `Page ${id}` })));
    await enqueue(sqs.sqs, dlqUrl, bodies);
    const config = loadConfig({
      SQS_QUEUE_URL: queueUrl,
      AWS_REGION: 'us-east-1',
      SINK: 'caliper-http',
      CALIPER_ENDPOINT_URL: oauthEndpoint.url,
      CALIPER_ENDPOINT_TOKEN_URL: issuer.url,
      CALIPER_ENDPOINT_CLIENT_ID: 'replay-client',
      CALIPER_ENDPOINT_CLIENT_SECRET: 'replay-secret-2c4e6a8b0d',
      HTTP_BATCH_LINGER_MS: '5',
    });
    const summary = await replayDlq({ dlqUrl, mode: 'direct', config, receiveWaitS: 0, visibilityTimeoutS: 30 }, { sqs: sqs.sqs, sink: await configuredSink(config, {}) });
    expect(summary.published).toBe(2);
    expect(issuer.requests).toHaveLength(1);
    expect(await queueDepth(sqs.sqs, dlqUrl)).toBe(0);
  } finally {
    await oauthEndpoint.close();
    await issuer.close();
  }
});
