import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateEnvelope } from '../src/caliper/validate.js';
import { deterministicEventId, mapEvent, mapJson } from '../src/engine.js';
import { event, fails, SEND_TIME, userEvent } from './helpers.js';

const V4 = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const raw = userEvent('wiki_page_created', { wiki_page_id: '9', title: 'Week 1', body: '<p>x</p>' });

/** The same object with its keys in reverse order, at every level. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
  return value;
}

describe('event ids', () => {
  it('are deterministic by default: the same event re-serialised (key order, whitespace) gets the same id', () => {
    const a = mapJson(JSON.stringify(raw), { sendTime: SEND_TIME }).data[0].id;
    const b = mapJson(JSON.stringify(reversed(raw), null, 4), { sendTime: SEND_TIME }).data[0].id;
    expect(a).toMatch(V4);
    expect(b).toBe(a);
  });

  it('differ between different events, even by one field', () => {
    const other = structuredClone(raw);
    other.metadata.request_id = '2dd9dc6f-2fb0-4c19-a6c5-7ee1bf3ed295';
    expect(event(other).id).not.toBe(event(raw).id);
  });

  it('--event-id random gives a fresh v4 UUID each time', () => {
    const a = event(raw, { eventId: 'random' }).id;
    const b = event(raw, { eventId: 'random' }).id;
    expect(a).toMatch(V4);
    expect(b).toMatch(V4);
    expect(a).not.toBe(b);
  });
});

describe('bad input: a clear, specific error', () => {

  it('malformed JSON', () => {
    const err = fails(() => mapJson('{"metadata": {'));
    expect(err.code).toBe('INVALID_JSON');
    expect(err.message).toMatch(/^invalid JSON: /);
  });

  it('not an object', () => {
    expect(fails(() => mapEvent([raw])).message).toBe('expected a Canvas event object {metadata, body}, got an array');
    expect(fails(() => mapEvent('x')).code).toBe('NOT_AN_OBJECT');
  });

  it('unknown event', () => {
    const err = fails(() => mapEvent(userEvent('course_teleported', {})));
    expect(err.code).toBe('UNKNOWN_EVENT');
    expect(err.eventName).toBe('course_teleported');
    expect(err.message).toBe('event course_teleported: unsupported event_name (run `canvas-caliper events` for the supported ones)');
  });

  it('missing event_name', () => {
    const noName = structuredClone(raw) as { metadata: Record<string, unknown> };
    delete noName.metadata.event_name;
    const err = fails(() => mapEvent(noName));
    expect(err.code).toBe('INVALID_RAW_EVENT');
    expect(err.message).toBe('event (no event_name): metadata.event_name: is required (a string)');
  });

  it('missing event_time and an unparseable event_time', () => {
    const noTime = structuredClone(raw) as { metadata: Record<string, unknown> };
    delete noTime.metadata.event_time;
    expect(fails(() => mapEvent(noTime)).message).toBe('event wiki_page_created: metadata.event_time: is required (an ISO 8601 string)');
    const badTime = userEvent('wiki_page_created', { wiki_page_id: '9' }, { event_time: 'yesterday' });
    expect(fails(() => mapEvent(badTime)).message).toBe('event wiki_page_created: metadata.event_time: "yesterday" is not a timestamp (expected ISO 8601)');
  });

  it('body of the wrong type', () => {
    const err = fails(() => mapEvent({ ...raw, body: ['x'] }));
    expect(err.code).toBe('INVALID_RAW_EVENT');
    expect(err.message).toBe('event wiki_page_created: body: must be an object');
    expect(fails(() => mapEvent({ metadata: raw.metadata })).message).toBe('event wiki_page_created: body: must be an object');
  });

  it('a required body field missing, or of the wrong type', () => {
    expect(fails(() => mapEvent(userEvent('wiki_page_created', { title: 'x' }))).message).toBe('event wiki_page_created: body.wiki_page_id: is required');
    expect(fails(() => mapEvent(userEvent('wiki_page_created', { wiki_page_id: true }))).message).toBe('event wiki_page_created: body.wiki_page_id: must be a Canvas id (a string or an integer)');
  });

  it('a bad timestamp in the body names the field', () => {
    const err = fails(() => mapEvent(userEvent('assignment_created', { assignment_id: '1', due_at: '31/12/2019' })));
    expect(err.code).toBe('INVALID_RAW_EVENT');
    expect(err.message).toBe('event assignment_created: body.due_at: "31/12/2019" is not a timestamp (expected ISO 8601)');
  });

  it('a numeric id too large for JSON numbers is refused rather than silently corrupted', () => {
    const err = fails(() => mapEvent(userEvent('wiki_page_created', { wiki_page_id: 21070000000000009 })));
    expect(err.message).toBe('event wiki_page_created: body.wiki_page_id: numeric id must be an integer below 2^53 (larger ids lose digits in JSON: send them as strings)');
  });
});

describe('Caliper validator', () => {
  const valid = () => mapEvent(raw, { sendTime: SEND_TIME });
  const invalid = (mutate: (e: any) => void) => {
    const envelope: any = valid();
    mutate(envelope);
    const result = validateEnvelope(envelope);
    expect(result.ok).toBe(false);
    return (result as { error: string }).error;
  };

  it('accepts our output', () => expect(validateEnvelope(valid())).toEqual({ ok: true }));

  it('rejects an action the event type does not allow', () => {
    expect(invalid((e) => (e.data[0].type = 'ViewEvent'))).toContain('data[0].action: ViewEvent does not allow action "Created" (allowed: Viewed)');
  });

  it('accepts Instructure’s departures exactly where listed, and no further', () => {
    const thread = (action: string) => (e: any) => {
      e.data[0].type = 'ThreadEvent';
      e.data[0].action = action;
      e.data[0].object = { id: 'urn:instructure:canvas:discussion:1', type: 'Thread' };
    };
    const ok: any = valid();
    thread('Created')(ok);
    expect(validateEnvelope(ok)).toEqual({ ok: true });
    expect(invalid(thread('Deleted'))).toContain('ThreadEvent does not allow action "Deleted"');
    expect(
      invalid((e) => {
        e.data[0].type = 'ViewEvent';
        e.data[0].action = 'Viewed';
        e.data[0].object = { id: 'urn:instructure:canvas:submission:1', type: 'Attempt' };
      }),
    ).toContain('data[0].object: ViewEvent does not allow object of type "Attempt" (allowed: DigitalResource)');
    expect(invalid((e) => (e.data[0].object.startedAtTime = '2019-11-01T00:00:00.000Z'))).toContain('data[0].object.startedAtTime: "startedAtTime" is not a property of Page');
  });

  it('rejects nulls, bad dates, non-IRI ids, unknown types and roles, extra envelope keys', () => {
    expect(invalid((e) => (e.data[0].object.name = null))).toContain('data[0].object.name: is null');
    expect(invalid((e) => (e.data[0].eventTime = '2019-11-01T19:11:11Z'))).toContain('data[0].eventTime: must be a UTC date-time YYYY-MM-DDTHH:mm:ss.SSSZ');
    expect(invalid((e) => (e.data[0].object.id = '12'))).toContain('data[0].object');
    expect(invalid((e) => (e.data[0].object.type = 'Wiki'))).toContain('data[0].object.type: "Wiki" is not a Caliper 1.1 entity type');
    expect(invalid((e) => (e.data[0].membership.roles = ['Teacher']))).toContain('data[0].membership.roles[0]: "Teacher" is not a Caliper role term');
    expect(invalid((e) => (e.extra = 1))).toContain('Unrecognized key');
    expect(invalid((e) => (e.dataVersion = 'http://purl.imsglobal.org/ctx/caliper/v1p2'))).toContain('dataVersion');
  });
});

describe('deterministic ids are pinned', () => {
  // Ids computed once (test/fixtures/event-ids.json) from every fixture's raw event: a change to the
  // id's encoding, hashing or layout would re-key every event already published downstream.
  const dir = path.join(import.meta.dirname, 'fixtures');
  const pinned = JSON.parse(fs.readFileSync(path.join(dir, 'event-ids.json'), 'utf8')) as Record<string, string>;
  it.each(Object.entries(pinned))('%s', (file, id) => {
    const raw = JSON.parse(fs.readFileSync(path.join(dir, 'events', file), 'utf8')).raw;
    expect(deterministicEventId(raw)).toBe(id);
    expect(mapJson(JSON.stringify(raw), { sendTime: SEND_TIME }).data[0].id).toBe(id);
  });
});
