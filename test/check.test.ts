// The fast checks compiled from zod schemas (src/check.ts) never accept what zod refuses, and accept
// the valid inputs (else they would not be fast).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvelopeSchema, StrictEnvelopeSchema, validateEnvelope } from '../src/caliper/validate.js';
import { fastCheck } from '../src/check.js';
import { mapEvent, mapInput } from '../src/engine.js';
import { Id, OptInt, OptNumber, OptText, RawEnvelope, z } from '../src/raw.js';
import { MAPPERS } from '../mappers/index.js';

const dir = path.join(import.meta.dirname, 'fixtures', 'events');
const raws = fs.readdirSync(dir).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).raw);
const VALUES: unknown[] = [undefined, null, '', 'x', '565', '2107~565', '1~', '-1', ' 1', 0, -1, 1.5, 2 ** 53, NaN, Infinity, true, false, [], ['1'], ['1', '2'], {}, { id: '1' }, { id: '1', x: 1 }, { a: 'x' }, { a: 1 }];

describe('fast checks compiled from zod schemas', () => {
  it.each([
    ['Id', Id],
    ['OptText', OptText],
    ['OptNumber', OptNumber],
    ['OptInt', OptInt],
    ['an enum', z.enum(['a', 'b'])],
    ['an array of ids', z.array(Id).nullish()],
    ['a loose object', z.looseObject({ id: Id, name: OptText })],
    ['a strict object', z.strictObject({ id: Id })],
    ['a record', z.record(z.string(), OptText)],
    ['an array of one', z.array(z.unknown()).length(1)],
    ['a refinement (asks zod)', z.string().refine((s) => s.startsWith('x'))],
  ] as const)('%s: agrees with zod on every probe value', (_name, schema) => {
    for (const v of VALUES) expect(fastCheck(schema)(v), JSON.stringify(v)).toBe(schema.safeParse(v).success && !(typeof v === 'number' && !Number.isFinite(v)));
  });

  it('every fixture passes the raw envelope and its mapper’s body check fast; a mutated body is never accepted when zod refuses it', () => {
    for (const raw of raws) {
      expect(fastCheck(RawEnvelope)(raw)).toBe(true);
      const schema = MAPPERS.get(raw.metadata.event_name)!.body;
      expect(fastCheck(schema)(raw.body), raw.metadata.event_name).toBe(true);
      for (const key of Object.keys(raw.body)) {
        for (const v of VALUES) {
          const body = { ...raw.body, [key]: v };
          if (fastCheck(schema)(body)) expect(schema.safeParse(body).success, `${raw.metadata.event_name} ${key}=${JSON.stringify(v)}`).toBe(true);
        }
      }
    }
  });
});

describe('the validator’s fast path', () => {
  // validateEnvelope answers from the compiled shape check and the path-free rule walk; zod only words a failure.
  const corruptions: [string, (e: any) => void][] = [
    ['none', () => {}],
    ['extra envelope key', (e) => (e.extra = 1)],
    ['extra event key', (e) => (e.data[0].extra = 1)],
    ['bad event id', (e) => (e.data[0].id = 'urn:uuid:X')],
    ['unknown action', (e) => (e.data[0].action = 'Danced')],
    ['object type unknown', (e) => (e.data[0].object.type = 'Widget')],
    ['object without id', (e) => delete e.data[0].object.id],
    ['property not of the type', (e) => (e.data[0].object.courseNumber = 'X')],
    ['null in extensions', (e) => (e.data[0].extensions = { a: null })],
    ['actor an IRI', (e) => (e.data[0].actor = 'urn:x:1')],
    ['actor not an IRI', (e) => (e.data[0].actor = 'not an iri')],
    ['two events', (e) => e.data.push(e.data[0])],
    ['sendTime not UTC ms', (e) => (e.sendTime = '2020-01-01')],
  ];
  it('refuses an own `__proto__` key in an entity, as JSON.parse makes it (zod’s parsed copy loses it)', () => {
    const raw = raws.find((r) => r.metadata.event_name === 'logged_in')!;
    const text = JSON.stringify(mapEvent(raw, { sendTime: '2020-01-01T00:00:00.000Z' })).replace('"type":"Session"', '"type":"Session","__proto__":["x"]');
    const envelope = JSON.parse(text);
    for (const departures of [true, false]) {
      const result = validateEnvelope(envelope, { departures });
      expect(result).toEqual({ ok: false, error: 'data[0].session.__proto__: "__proto__" is not a property of Session' });
      expect((departures ? EnvelopeSchema : StrictEnvelopeSchema).safeParse(envelope).success).toBe(false);
    }
    // A Caliper envelope passed through (a queue message in Canvas's "Caliper IMS" format) is refused too.
    expect(() => mapInput(envelope)).toThrow(/session\.__proto__/);
  });

  it('agrees with the zod schema on every fixture’s output and its corruptions', () => {
    for (const raw of raws) {
      const envelope = mapEvent(raw, { sendTime: '2020-01-01T00:00:00.000Z' });
      for (const [name, corrupt] of corruptions) {
        const copy = structuredClone(envelope);
        corrupt(copy);
        for (const departures of [true, false]) {
          const schema = departures ? EnvelopeSchema : StrictEnvelopeSchema;
          expect(validateEnvelope(copy, { departures }).ok, `${raw.metadata.event_name}: ${name}`).toBe(schema.safeParse(copy).success);
        }
      }
    }
  });
});
