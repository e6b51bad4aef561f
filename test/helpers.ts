// A realistic user-generated raw event to vary in rule tests (the shape of Instructure's examples).
import { ReceiveMessageCommand, type Message, type ServiceInputTypes as SqsInput, type ServiceOutputTypes as SqsOutput, type SQSClientResolvedConfig } from '@aws-sdk/client-sqs';
import type { AwsStub } from 'aws-sdk-client-mock';
import { expect } from 'vitest';
import type { CaliperEvent, Envelope } from '../src/caliper/model.js';
import { mapEvent, type MapOptions } from '../src/engine.js';
import { MappingError } from '../src/errors.js';
import { caliperTime } from '../mappers/values.js';
import { KNOWN_BODY_FIELDS } from '../src/known-fields.js';
import { maskUrl } from '../src/privacy/url.js';

export const SEND_TIME = '2020-01-01T00:00:00.000Z';

/** A small seeded PRNG (mulberry32): the same mutations on every run. */
export function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}


export function userEvent(eventName: string, body: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    metadata: {
      client_ip: '93.184.216.34',
      context_account_id: '21070000000000079',
      context_id: '21070000000000565',
      context_role: 'TeacherEnrollment',
      context_type: 'Course',
      event_name: eventName,
      event_time: '2019-11-01T19:11:11.323Z',
      hostname: 'oxana.instructure.com',
      http_method: 'POST',
      producer: 'canvas',
      referrer: null,
      request_id: '1dd9dc6f-2fb0-4c19-a6c5-7ee1bf3ed295',
      root_account_id: '21070000000000001',
      root_account_lti_guid: 'VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs.oxana.instructure.com',
      root_account_uuid: 'VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs',
      session_id: 'ef686f8ed684abf78cbfa1f6a58112b5',
      url: 'https://oxana.instructure.com/api/v1/courses/565/pages',
      user_agent: 'Mozilla/5.0',
      user_id: '21070000000000001',
      user_login: 'oxana@example.com',
      user_sis_id: '456-T45',
      ...metadata,
    },
    body,
  };
}

export function systemEvent(eventName: string, body: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    metadata: {
      job_id: '1020020528469291',
      job_tag: 'Assignment#post_submissions',
      producer: 'canvas',
      root_account_id: '21070000000000001',
      root_account_uuid: 'VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs',
      root_account_lti_guid: '7db438071375c02373713c12c73869ff2f470b68.oxana.instructure.com',
      event_name: eventName,
      event_time: '2019-11-01T00:07:59.125Z',
      ...metadata,
    },
    body,
  };
}

/** Removes the listed metadata fields (as a request without them would arrive). */
export function without<T extends { metadata: Record<string, unknown> }>(raw: T, ...fields: string[]): T {
  const copy = structuredClone(raw);
  for (const f of fields) delete copy.metadata[f];
  return copy;
}

export function event(raw: unknown, options: MapOptions = {}): CaliperEvent & Record<string, any> {
  const envelope: Envelope = mapEvent(raw, { sendTime: SEND_TIME, ...options });
  return envelope.data[0];
}

export const ext = (entity: any) => entity?.extensions?.['com.instructure.canvas'];

/** The MappingError `fn` throws (the test fails if it throws none, or another error). */
export function fails(fn: () => unknown): MappingError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MappingError);
    return err as MappingError;
  }
  throw new Error('expected a MappingError');
}

type Leaf = { key: string; value: string | number | boolean };
/** Every leaf value (of every field, at every depth). */
function leaves(value: unknown, key = ''): Leaf[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((v) => leaves(v, key));
  if (typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leaves(v, k));
  return [{ key, value: value as Leaf['value'] }];
}

/** The leaves of a raw body's known top-level fields (documented for the type or read by its mapper: src/known-fields.ts); an unknown one never leaves. */
function knownLeaves(raw: { metadata: { event_name: string }; body: unknown }): Leaf[] {
  const known = KNOWN_BODY_FIELDS.get(raw.metadata.event_name) ?? new Set();
  return Object.entries(raw.body as Record<string, unknown>).flatMap(([k, v]) => (known.has(k) ? leaves(v, k) : []));
}

/** Every leaf value of an output, and the id part of each URN (`urn:instructure:canvas:<kind>:<id>` → `<id>`). */
function outputValues(envelope: unknown): Set<unknown> {
  const out = new Set<unknown>();
  for (const { value } of leaves(envelope)) {
    out.add(value);
    if (typeof value === 'string' && value.startsWith('urn:instructure:canvas:')) out.add(value.slice(value.lastIndexOf(':') + 1));
  }
  return out;
}

/**
 * Nothing dropped: the body values of `raw` not found in `envelope` in any documented form (as sent,
 * as a string, a normalised timestamp, a masked URL, the id part of a URN). Null fields are absent
 * by rule; fields neither documented for the type nor read by its mapper never leave.
 */
export function missingBodyValues(raw: { metadata: { event_name: string }; body: unknown }, envelope: unknown): Leaf[] {
  const found = outputValues(envelope);
  return knownLeaves(raw).filter(({ key, value }) => {
    const forms: unknown[] = [value, String(value)];
    if (typeof value === 'string') {
      forms.push(maskUrl(value));
      try {
        forms.push(caliperTime(value, key));
      } catch {
        // not a timestamp
      }
    }
    return !forms.some((f) => found.has(f));
  });
}

/** SQS (aws-sdk-client-mock) that hands out `messages` once, then long-polls empty (briefly, so that tests stay fast). */
export function queueOf(sqs: AwsStub<SqsInput, SqsOutput, SQSClientResolvedConfig>, messages: Message[]): void {
  let served = false;
  sqs.on(ReceiveMessageCommand).callsFake(async () => {
    if (!served) {
      served = true;
      return { Messages: messages };
    }
    await new Promise((r) => setTimeout(r, 20));
    return { Messages: [] };
  });
}
