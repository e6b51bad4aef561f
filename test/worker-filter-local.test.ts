// Event type filters on real-protocol local services (local-aws-sqs, kinesis-local): an excluded type
// and, with UNKNOWN_EVENTS=skip, an unknown one are deleted and counted, never published, never in the
// DLQ; with UNKNOWN_EVENTS=dlq the unknown one is parked with UNKNOWN_EVENT.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createQueues, createStream, enqueue, LOCAL_REGION, queueDepth, readStream, type LocalServices } from '../src/worker/local.js';
import { Worker } from '../src/worker/worker.js';
import { userEvent } from './helpers.js';
import { drainQueue, until, localServicesForFile } from './local.js';

let services: LocalServices;
localServicesForFile((s) => (services = s));

const page = (eventName: string, id: string) => JSON.stringify(userEvent(eventName, { wiki_page_id: id, title: `Page ${id}` }));
const BODIES = [
  page('wiki_page_created', '1'),
  page('wiki_page_updated', '2'),
  page('wiki_page_created', '3'),
  JSON.stringify(userEvent('no_such_event', { id: '4' })),
  page('wiki_page_updated', '5'),
  JSON.stringify(userEvent('no_such_event', { id: '6' })),
];

/** Runs a worker with `env` over BODIES on a fresh queue, DLQ and stream, until every message is handled. */
async function runFiltered(name: string, env: Record<string, string>) {
  const { queueUrl, dlqUrl } = await createQueues(services.sqs, name);
  await createStream(services.kinesis, name);
  await enqueue(services.sqs, queueUrl, BODIES);
  const config = loadConfig({ SQS_QUEUE_URL: queueUrl, DLQ_URL: dlqUrl, KINESIS_STREAM_NAME: name, AWS_REGION: LOCAL_REGION, RECEIVE_WAIT_TIME_S: '1', BATCH_LINGER_MS: '5', ...env });
  const worker = new Worker({ sqs: services.sqs, kinesis: services.kinesis, config, logger: pino({ level: 'silent' }) });
  worker.start();
  await until(async () => worker.counters.acknowledged === BODIES.length, 60_000);
  await worker.stop();
  return {
    counters: worker.counters,
    queueDepth: await queueDepth(services.sqs, queueUrl),
    published: (await readStream(services.kinesis, name)).map((r) => JSON.parse(r).data[0].object.name as string).sort(),
    dlq: (await drainQueue(services.sqs, dlqUrl)).map((m) => ({ body: m.body, error_code: m.attributes.error_code, event_name: m.attributes.event_name })),
  };
}

describe('event type filters on local SQS and Kinesis', () => {
  it('EXCLUDE_EVENT_TYPES and UNKNOWN_EVENTS=skip: deleted and counted, never published, never in the DLQ; UNKNOWN_EVENTS=dlq parks the unknown type', async () => {
    expect(await runFiltered('it-filter-skip', { EXCLUDE_EVENT_TYPES: 'wiki_page_updated', UNKNOWN_EVENTS: 'skip' })).toEqual({
      counters: { received: 6, published: 2, acknowledged: 6, sentToDlq: 0, retries: 0, released: 0, skipped: 4 },
      queueDepth: 0,
      published: ['Page 1', 'Page 3'],
      dlq: [],
    });
    const dlq = await runFiltered('it-filter-dlq', { EXCLUDE_EVENT_TYPES: 'wiki_page_updated', UNKNOWN_EVENTS: 'dlq' });
    expect({ ...dlq, dlq: dlq.dlq.sort((a, b) => a.body.localeCompare(b.body)) }).toEqual({
      counters: { received: 6, published: 2, acknowledged: 6, sentToDlq: 2, retries: 0, released: 0, skipped: 2 },
      queueDepth: 0,
      published: ['Page 1', 'Page 3'],
      dlq: [BODIES[3], BODIES[5]].sort().map((body) => ({ body, error_code: 'UNKNOWN_EVENT', event_name: 'no_such_event' })),
    });
  }, 120_000);
});
