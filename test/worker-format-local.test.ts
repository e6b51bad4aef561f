// The worker publishes in CALIPER_FORMAT, on real-protocol local services (local-aws-sqs,
// kinesis-local): with caliper-1.2 every record in the stream is a Caliper 1.2 envelope that our 1.2
// validator accepts as published (decimals with a fraction), with the configured edApp id and session;
// an envelope already in Caliper 1.1 (Canvas's "Caliper IMS" format) is validated in the format the
// worker publishes, so it is parked in the DLQ, never published.
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { mapEvent } from '../src/engine.js';
import { parseCaliperJson, validateCaliper12, validateEnvelope12 } from '../src/caliper/validate12.js';
import { createQueues, createStream, enqueue, LOCAL_REGION, queueDepth, readStream, type LocalServices } from '../src/worker/local.js';
import { Worker } from '../src/worker/worker.js';
import { drainQueue, until, localServicesForFile } from './local.js';

let services: LocalServices;
localServicesForFile((s) => (services = s));

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'events', `${name}.json`), 'utf8')).raw;
const RAW = ['grade_change', 'quiz_submitted', 'wiki_page_created', 'asset_accessed.07', 'logged_in', 'submission_created'].map(fixture);
const PASSED_THROUGH = mapEvent(fixture('course_created'), { sendTime: '2020-01-01T00:00:00.000Z' });
const BODIES = [...RAW.map((raw) => JSON.stringify(raw)), JSON.stringify(PASSED_THROUGH)];

describe('CALIPER_FORMAT on local SQS and Kinesis', () => {
  it('caliper-1.2: publishes 1.2 envelopes, valid as published; a 1.1 envelope passed through goes to the DLQ', async () => {
    const name = 'it-format-12';
    const { queueUrl, dlqUrl } = await createQueues(services.sqs, name);
    await createStream(services.kinesis, name);
    await enqueue(services.sqs, queueUrl, BODIES);
    const config = loadConfig({
      SQS_QUEUE_URL: queueUrl, DLQ_URL: dlqUrl, KINESIS_STREAM_NAME: name, AWS_REGION: LOCAL_REGION, RECEIVE_WAIT_TIME_S: '1', BATCH_LINGER_MS: '5',
      CALIPER_FORMAT: 'caliper-1.2', CALIPER_EDAPP_ID: 'https://platform.example/apps/canvas', CALIPER_SESSION: 'auto-attach',
    });
    const worker = new Worker({ sqs: services.sqs, kinesis: services.kinesis, config, logger: pino({ level: 'silent' }) });
    worker.start();
    await until(async () => worker.counters.acknowledged === BODIES.length, 60_000);
    await worker.stop();

    expect(worker.counters).toMatchObject({ received: BODIES.length, published: RAW.length, sentToDlq: 1 });
    expect(await queueDepth(services.sqs, queueUrl)).toBe(0);
    const records = await readStream(services.kinesis, name);
    expect(records.length).toBe(RAW.length);
    for (const record of records) {
      const { value, integerLexemes } = parseCaliperJson(record);
      expect(validateCaliper12(value, { integerLexemes })).toEqual({ ok: true });
      expect(validateEnvelope12(value)).toEqual({ ok: true });
      expect(value).toMatchObject({
        dataVersion: 'http://purl.imsglobal.org/ctx/caliper/v1p2',
        data: [{ '@context': 'http://purl.imsglobal.org/ctx/caliper/v1p2', profile: expect.any(String), edApp: { id: 'https://platform.example/apps/canvas' } }],
      });
      // auto-attach: every event's session is the platform's, but a login's or logout's, which carries
      // Canvas's Session with its time (as the platform's SessionEvent asks).
      const event = (value as { data: { type: string; action: string; session: unknown }[] }).data[0]!;
      if (event.type === 'SessionEvent') expect(event.session).toMatchObject({ type: 'Session', [event.action === 'LoggedIn' ? 'startedAtTime' : 'endedAtTime']: expect.any(String) });
      else expect(event.session).toBe('urn:tag:auto-attach');
    }
    const types = records.map((r) => `${JSON.parse(r).data[0].type} ${JSON.parse(r).data[0].profile}`).sort();
    expect(types).toEqual([
      'AssessmentEvent AssessmentProfile',
      'AssignableEvent AssignableProfile',
      'GradeEvent GradingProfile',
      'NavigationEvent ForumProfile',
      'ResourceManagementEvent ResourceManagementProfile',
      'SessionEvent SessionProfile',
    ]);
    const dlq = await drainQueue(services.sqs, dlqUrl);
    expect(dlq.map((m) => m.attributes.error_code)).toEqual(['INVALID_CALIPER']);
  }, 120_000);
});
