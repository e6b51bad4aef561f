// The fast checks compiled from zod schemas (src/check.ts) never accept what zod refuses, and accept
// the valid inputs (else they would not be fast).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fastCheck } from '../src/check.js';
import { Id, OptInt, OptNumber, OptText, RawEnvelope, z } from '../src/raw.js';
import { MAPPERS } from '../mappers/index.js';

const dir = path.join(import.meta.dirname, 'fixtures', 'events');
const raws = fs.readdirSync(dir).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).raw);
const VALUES: unknown[] = [undefined, null, '', 'x', '565', '2107~565', '1~', '-1', ' 1', 0, -1, 1.5, 2 ** 53, NaN, Infinity, true, false, [], ['1'], {}, { id: '1' }];

describe('fast checks compiled from zod schemas', () => {
  it.each([
    ['Id', Id],
    ['OptText', OptText],
    ['OptNumber', OptNumber],
    ['OptInt', OptInt],
    ['an enum', z.enum(['a', 'b'])],
    ['an array of ids', z.array(Id).nullish()],
    ['a loose object', z.looseObject({ id: Id, name: OptText })],
    ['a strict object (asks zod)', z.strictObject({ id: Id })],
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
