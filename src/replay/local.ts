// `replay-dlq --local`: replay-dlq tried on embedded local services, as `npm start` tries the worker.
// Local SQS (a source queue with its DLQ and redrive policy) and kinesis-local (a stream) start on
// loopback ports, the DLQ is filled with what an incident leaves there, made from the samples, and the
// user's options replay it; everything is gone when the command ends.
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MappingError } from '../errors.js';
import { loadSamples, type RawSample } from '../samples.js';
import { recordFor } from '../worker/decode.js';
import { createQueues, createStream, LOCAL_REGION, queueDepth, readStream, startLocalServices, type LocalServices } from '../worker/local.js';
import { sendToDlq } from '../worker/sqs.js';

const QUEUE = 'canvas-live-events';
const STREAM = 'canvas-caliper';

/** The variables the options are checked against before the local services exist (their real URLs replace these). */
export const LOCAL_PLACEHOLDERS: NodeJS.ProcessEnv = {
  DLQ_URL: `http://127.0.0.1/000000000000/${QUEUE}-dlq`,
  SQS_QUEUE_URL: `http://127.0.0.1/000000000000/${QUEUE}`,
  KINESIS_STREAM_NAME: STREAM,
  KINESIS_STREAM_ARN: undefined,
  // --direct publishes to kinesis-local, whatever SINK the environment names.
  SINK: 'kinesis',
  AWS_REGION: LOCAL_REGION,
};

/** The event types of the valid messages parked, one sample each. */
const PARKED_TYPES = ['logged_in', 'asset_accessed', 'grade_change', 'submission_created', 'wiki_page_created', 'discussion_entry_created'];

/** Two messages no release maps: a body cut short, and an event type no mapper handles. */
const POISON = ['{"metadata": {"event_name": "logged_in", "event_time": "2019-11-0', JSON.stringify({ metadata: { event_name: 'course_archived', event_time: '2019-11-01T00:00:00Z' }, body: {} })];

export interface LocalIncident {
  services: LocalServices;
  queueUrl: string;
  dlqUrl: string;
  /** How many messages the DLQ holds at the start. */
  parked: number;
  /** Where things are now, for the line printed after the run. */
  describe(): Promise<string>;
}

/** The local services, a queue, its DLQ and a stream, and the DLQ as an incident leaves it. */
export async function startLocalIncident(): Promise<LocalIncident> {
  const services = await startLocalServices();
  try {
    const { queueUrl, dlqUrl } = await createQueues(services.sqs, QUEUE);
    await createStream(services.kinesis, STREAM);
    const parked = await park(services.sqs, dlqUrl);
    return {
      services,
      queueUrl,
      dlqUrl,
      parked,
      async describe() {
        const records = (await readStream(services.kinesis, STREAM)).length;
        return `the DLQ holds ${await queueDepth(services.sqs, dlqUrl)} message(s), the source queue ${await queueDepth(services.sqs, queueUrl)} (no worker runs here to take them), the stream ${records} record(s)`;
      },
    };
  } catch (err) {
    await services.stop();
    throw err;
  }
}

/**
 * Parks, as an incident would: the first half of PARKED_TYPES moved by the redrive policy (no error
 * attributes: the worker could not publish them in time), the second half refused by an older release
 * (a reason this release no longer has), and the POISON with the reasons this release gives them.
 */
async function park(sqs: SQSClient, dlqUrl: string): Promise<number> {
  const samples = new Map(loadSamples().map((raw) => [String(raw.metadata.event_name), raw]));
  const valid = PARKED_TYPES.map((type) => samples.get(type)).filter((raw): raw is RawSample => raw !== undefined);
  const half = Math.ceil(valid.length / 2);
  const attribute = (value: string) => ({ DataType: 'String', StringValue: value });
  for (const raw of valid.slice(0, half)) {
    await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(raw), MessageAttributes: { event_name: attribute(String(raw.metadata.event_name)) } }));
  }
  const parked = (id: string, body: string) => ({ MessageId: id, Body: body, Attributes: { ApproximateReceiveCount: '1' } });
  for (const [i, raw] of valid.slice(half).entries()) {
    const eventName = String(raw.metadata.event_name);
    await sendToDlq(sqs, dlqUrl, parked(`older-release-${i}`, JSON.stringify(raw)), { code: 'INVALID_RAW_EVENT', message: 'refused by an older release (a local example: this release maps it)', eventName });
  }
  for (const [i, body] of POISON.entries()) {
    const reason = reasonFor(body);
    await sendToDlq(sqs, dlqUrl, parked(`poison-${i}`, body), { code: reason.code, message: reason.message, eventName: reason.eventName });
  }
  return valid.length + POISON.length;
}

/** Why this release parks a body. */
function reasonFor(body: string): MappingError {
  try {
    recordFor(body, { eventId: 'deterministic' });
  } catch (err) {
    if (err instanceof MappingError) return err;
    throw err;
  }
  throw new Error('a POISON body maps: choose another');
}
