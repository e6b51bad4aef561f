// An SQS message → skipped, or its Kinesis record. What a body may hold (raw Canvas event, SNS
// notification, Caliper envelope) is decided by the engine's mapInput, shared with `canvas-caliper map`.
import type { Message } from '@aws-sdk/client-sqs';
import { eventNameOf, mapInput, unwrapSns, type Decoded, type MapOptions } from '../engine.js';
import { parseJson } from '../json.js';
import { MappingError, SkippedEvent } from '../errors.js';
import type { EventFilter } from '../filter.js';
import { KINESIS_MAX_RECORD_BYTES } from './kinesis.js';
import { serializeEnvelope } from '../formats/index.js';

export type { Decoded };

/** Turns one SQS message body into a validated Caliper envelope, or throws a MappingError (poison). */
export function decodeMessage(body: string, options: MapOptions): Decoded {
  return mapInput(parseJson(body), options, true);
}

/** The Kinesis record of one SQS message body; a MappingError (poison) if it cannot be mapped or is too large for Kinesis. */
export function recordFor(body: string, options: MapOptions): Decoded & { record: Buffer } {
  return withRecord(decodeMessage(body, options));
}

/** A decoded envelope with its record: the text a sink publishes. */
export function withRecord(decoded: Decoded): Decoded & { record: Buffer } {
  // caliper-1.2 writes its decimals with a fraction (serializeEnvelope); other formats are JSON.stringify's.
  // `data` comes last (a passed-through envelope may have it elsewhere): the HTTP sink splices records' events on that.
  const record = Buffer.from(serializeEnvelope(dataLast(decoded.envelope)));
  // Leave room for the partition key (≤ 256 characters) within the 1 MiB record limit.
  if (record.byteLength > KINESIS_MAX_RECORD_BYTES - 256) {
    throw new MappingError('RECORD_TOO_LARGE', `the Caliper record is ${record.byteLength} bytes, over Kinesis's 1 MiB record limit`, decoded.eventName);
  }
  return { ...decoded, record };
}

/** Skipped: the event_name, and for an event left out once mapped, the Caliper `Type.Action` (or `unmapped_person`) it is counted under. */
export type Incoming = { skipped: string; label?: string } | (Decoded & { record: Buffer });

/** Where what Canvas sends that we do not know is counted (unknown-fields.ts): its type alone, or its fields too. */
export interface Unknowns {
  see(eventName: string, raw?: unknown): void;
}

/**
 * What becomes of one SQS message: skipped, when the filter leaves its event_name out (or, once mapped,
 * CALIPER_EVENT_TYPES its Caliper type, or PERSON_ID_UNMAPPED=skip a person), or its Kinesis
 * record. The event_name is read before mapping: the event_name attribute Canvas sends, else the raw
 * event's metadata (a Caliper envelope without the attribute is never skipped). Throws a MappingError
 * (poison). `unknowns` sees every event's type, and the fields of those not skipped.
 */
export function readMessage(message: Message, filter: EventFilter, options: MapOptions, unknowns?: Unknowns): Incoming {
  const skip = (name: string | undefined): name is string => name !== undefined && filter(name) === 'skip';
  const attribute = message.MessageAttributes?.event_name?.StringValue;
  if (skip(attribute)) {
    unknowns?.see(attribute);
    return { skipped: attribute };
  }
  let value: unknown;
  try {
    value = unwrapSns(parseJson(message.Body ?? ''));
  } catch (err) {
    // A body refused for a number a double cannot hold names its event.
    const eventName = attribute ?? (err instanceof MappingError ? err.eventName : undefined);
    if (skip(eventName)) return { skipped: eventName };
    throw err;
  }
  const eventName = attribute ?? eventNameOf(value);
  if (skip(eventName)) {
    unknowns?.see(eventName);
    return { skipped: eventName };
  }
  if (eventName !== undefined) unknowns?.see(eventName, value);
  try {
    // The value is this function's own (parsed above, read by nothing after): the engine may write into it.
    return withRecord(mapInput(value, options, true));
  } catch (err) {
    // CALIPER_EVENT_TYPES, PERSON_ID_UNMAPPED=skip: left out once mapped.
    if (err instanceof SkippedEvent) return { skipped: err.eventName ?? eventName ?? '', label: err.label };
    throw err;
  }
}

/** The same envelope with its properties in the usual order, `data` last (the same object when they already are). */
function dataLast<T extends { sensor: unknown; sendTime: unknown; dataVersion: unknown; data: unknown }>(envelope: T): T {
  const keys = Object.keys(envelope);
  if (keys.length === 4 && keys[0] === 'sensor' && keys[1] === 'sendTime' && keys[2] === 'dataVersion' && keys[3] === 'data') return envelope;
  const { sensor, sendTime, dataVersion, data, ...rest } = envelope;
  return { sensor, sendTime, dataVersion, ...rest, data } as T;
}
