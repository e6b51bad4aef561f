// What an SQS message body may hold: a raw Canvas event, the same wrapped in an SNS notification
// (subscription without raw delivery), or an envelope already in Caliper (Canvas's "Caliper IMS"
// format), which is validated and passed through.
import type { Envelope } from '../caliper/model.js';
import { validateEnvelope } from '../caliper/validate.js';
import { eventNameOf, mapEvent, type MapOptions } from '../engine.js';
import { MappingError } from '../errors.js';
import { KINESIS_MAX_RECORD_BYTES } from './kinesis.js';

export interface Decoded {
  envelope: Envelope;
  /** The Canvas event_name, or for a passed-through Caliper envelope its event type and action. */
  eventName: string;
}

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MappingError('INVALID_JSON', `invalid JSON${what}: ${(err as Error).message}`);
  }
}

/** Turns one SQS message body into a validated Caliper envelope, or throws a MappingError (poison). */
export function decodeMessage(body: string, options: MapOptions): Decoded {
  let value = parse(body, '');
  if (isObject(value) && value.Type === 'Notification' && typeof value.Message === 'string') {
    value = parse(value.Message, ' in the SNS notification Message');
  }
  if (!isObject(value)) {
    throw new MappingError('NOT_AN_OBJECT', `expected a Canvas event or a Caliper envelope, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  }
  if ('dataVersion' in value && 'data' in value && !('metadata' in value)) {
    const valid = validateEnvelope(value);
    const first = Array.isArray(value.data) && isObject(value.data[0]) ? value.data[0] : {};
    const eventName = `${String(first.type)}:${String(first.action)}`;
    if (!valid.ok) throw new MappingError('INVALID_CALIPER', `Caliper envelope ${eventName}: ${valid.error}`, eventName);
    return { envelope: value as unknown as Envelope, eventName };
  }
  return { envelope: mapEvent(value, options), eventName: eventNameOf(value) ?? '' };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The Kinesis record of one SQS message body; a MappingError (poison) if it cannot be mapped or is too large for Kinesis. */
export function recordFor(body: string, options: MapOptions): Decoded & { record: Buffer } {
  const decoded = decodeMessage(body, options);
  const record = Buffer.from(JSON.stringify(decoded.envelope));
  // Leave room for the partition key (≤ 256 characters) within the 1 MiB record limit.
  if (record.byteLength > KINESIS_MAX_RECORD_BYTES - 256) {
    throw new MappingError('RECORD_TOO_LARGE', `the Caliper record is ${record.byteLength} bytes, over Kinesis's 1 MiB record limit`, decoded.eventName);
  }
  return { ...decoded, record };
}
