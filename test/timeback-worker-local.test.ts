// The worker with TimeBack's identity and event settings on real-protocol local services
// (local-aws-sqs, kinesis-local): CALIPER_EVENT_TYPES deletes what it leaves out and counts it by
// Caliper type (/metrics); PERSON_ID_MAP puts the platform's id on the actor; a user the map does not
// name is parked UNMAPPED_PERSON (the default) or skipped and counted (PERSON_ID_UNMAPPED=skip).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, withPersonMap } from '../src/config.js';
import { createQueues, createStream, enqueue, LOCAL_REGION, queueDepth, readStream, type LocalServices } from '../src/worker/local.js';
import { prometheus } from '../src/worker/observe.js';
import { Worker } from '../src/worker/worker.js';
import { userEvent } from './helpers.js';
import { drainQueue, until, localServicesForFile } from './local.js';

let services: LocalServices;
localServicesForFile((s) => (services = s));

const MAPPED = '21070000000000001';
const UNMAPPED = '21070000000000002';
const PLATFORM_ID = '6f1c2b3a-9d4e-4f10-8a7b-2c3d4e5f6a7b';
const page = (eventName: string, id: string, userId = MAPPED) => JSON.stringify(userEvent(eventName, { wiki_page_id: id, title: `Page ${id}` }, { user_id: userId }));
const BODIES = [page('wiki_page_created', '1'), page('wiki_page_updated', '2'), page('wiki_page_created', '3', UNMAPPED), page('wiki_page_updated', '4'), page('wiki_page_created', '5')];

let tmp: string;
let mapFile: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'timeback-worker-'));
  mapFile = path.join(tmp, 'map.csv');
  // The local form of the mapped user: matched on the root account's shard.
  fs.writeFileSync(mapFile, `canvas_user_id,person_id\n1,${PLATFORM_ID}\n`);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(name: string, env: Record<string, string>) {
  const { queueUrl, dlqUrl } = await createQueues(services.sqs, name);
  await createStream(services.kinesis, name);
  await enqueue(services.sqs, queueUrl, BODIES);
  const config = await withPersonMap(
    loadConfig({ SQS_QUEUE_URL: queueUrl, DLQ_URL: dlqUrl, KINESIS_STREAM_NAME: name, AWS_REGION: LOCAL_REGION, RECEIVE_WAIT_TIME_S: '1', BATCH_LINGER_MS: '5', ...env }),
  );
  const worker = new Worker({ sqs: services.sqs, kinesis: services.kinesis, config, logger: pino({ level: 'silent' }) });
  worker.start();
  await until(async () => worker.counters.acknowledged === BODIES.length, 60_000);
  await worker.stop();
  return {
    counters: worker.counters,
    metrics: prometheus(worker).split('\n').filter((l) => /skipped_by_type|person_map_rows/.test(l) && !l.startsWith('#')),
    queueDepth: await queueDepth(services.sqs, queueUrl),
    published: (await readStream(services.kinesis, name)).map((r) => JSON.parse(r).data[0]).map((e) => `${e.object.name} ${e.type}.${e.action} ${e.actor.id}`).sort(),
    dlq: (await drainQueue(services.sqs, dlqUrl)).map((m) => ({ body: m.body, error_code: m.attributes.error_code })),
  };
}

const TIMEBACK = { CALIPER_FORMAT: 'caliper-1.2', CALIPER_EVENT_TYPES: 'ResourceManagementEvent.Created', CALIPER_IRI: 'https' };

describe('TimeBack’s settings in the worker, on local SQS and Kinesis', () => {
  it('CALIPER_EVENT_TYPES skips and counts by type; the map names the actor; an unmapped user is parked UNMAPPED_PERSON', async () => {
    expect(await run('it-timeback-dlq', { ...TIMEBACK, PERSON_ID_MAP: mapFile })).toEqual({
      counters: { received: 5, published: 2, acknowledged: 5, sentToDlq: 1, retries: 0, released: 0, skipped: 2 },
      metrics: ['canvas_caliper_skipped_by_type_total{type="ResourceManagementEvent.Modified"} 2', 'canvas_caliper_person_map_rows 1'],
      queueDepth: 0,
      published: [`Page 1 ResourceManagementEvent.Created urn:uuid:${PLATFORM_ID}`, `Page 5 ResourceManagementEvent.Created urn:uuid:${PLATFORM_ID}`],
      dlq: [{ body: BODIES[2], error_code: 'UNMAPPED_PERSON' }],
    });
  }, 120_000);

  it('PERSON_ID_UNMAPPED=skip deletes and counts it; keep publishes its Canvas URL', async () => {
    const skip = await run('it-timeback-skip', { ...TIMEBACK, PERSON_ID_MAP: mapFile, PERSON_ID_UNMAPPED: 'skip' });
    expect([skip.counters.skipped, skip.counters.sentToDlq, skip.dlq, skip.metrics]).toEqual([
      3,
      0,
      [],
      ['canvas_caliper_skipped_by_type_total{type="ResourceManagementEvent.Modified"} 2', 'canvas_caliper_skipped_by_type_total{type="unmapped_person"} 1', 'canvas_caliper_person_map_rows 1'],
    ]);
    const keep = await run('it-timeback-keep', { ...TIMEBACK, PERSON_ID_MAP: mapFile, PERSON_ID_UNMAPPED: 'keep' });
    expect(keep.published).toContain(`Page 3 ResourceManagementEvent.Created https://oxana.instructure.com/users/${UNMAPPED}`);
    expect(keep.dlq).toEqual([]);
  }, 120_000);
});
