// Nothing dropped: for each of our 50 event types (and outcomes.retry…), every leaf value of the raw
// example's body is found in the Caliper output — in a property, in an extension, or as the id part
// of a URN — with the documented normalisations (timestamps to UTC milliseconds, URL credentials
// filtered); null fields are absent by rule. The output is spec-valid with no departure.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateEnvelope } from '../src/caliper/validate.js';
import { mapEvent } from '../src/engine.js';
import { INSTRUCTURE_EVENT_NAMES } from '../mappers/index.js';
import { caliperTime, safeUrl } from '../mappers/values.js';

const dir = path.join(import.meta.dirname, 'fixtures', 'events');
const ours = fs
  .readdirSync(dir)
  .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).raw as { metadata: { event_name: string }; body: Record<string, unknown> })
  .filter((raw) => !INSTRUCTURE_EVENT_NAMES.has(raw.metadata.event_name));

type Leaf = { path: string; key: string; value: string | number | boolean };
function leaves(value: unknown, at = 'body', key = ''): Leaf[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, `${at}[${i}]`, key));
  if (typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leaves(v, `${at}.${k}`, k));
  return [{ path: at, key, value: value as string | number | boolean }];
}

/** Every leaf value of the output, and the id part of each URN (`urn:instructure:canvas:<kind>:<id>` → `<id>`). */
function outputValues(envelope: unknown): Set<unknown> {
  const out = new Set<unknown>();
  for (const { value } of leaves(envelope)) {
    out.add(value);
    if (typeof value === 'string' && value.startsWith('urn:instructure:canvas:')) out.add(value.slice(value.lastIndexOf(':') + 1));
  }
  return out;
}

describe('our event types drop nothing', () => {
  it('covers the 50 types Instructure leaves out', () => expect(new Set(ours.map((r) => r.metadata.event_name)).size).toBe(50));

  it.each(ours.map((raw) => [raw.metadata.event_name, raw] as const))('%s: every body value is in the output', (_name, raw) => {
    const envelope = mapEvent(raw, { sendTime: '2020-01-01T00:00:00.000Z' });
    expect(validateEnvelope(envelope, { departures: false })).toEqual({ ok: true });
    const found = outputValues(envelope);
    const missing = leaves(raw.body).filter(({ key, value }) => {
      const forms = [value, String(value)];
      if (typeof value === 'string' && key.endsWith('_at')) forms.push(caliperTime(value, key));
      if (typeof value === 'string') forms.push(safeUrl(value));
      return !forms.some((f) => found.has(f));
    });
    expect(missing).toEqual([]);
  });
});
