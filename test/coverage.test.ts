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
import { missingBodyValues } from './helpers.js';

const dir = path.join(import.meta.dirname, 'fixtures', 'events');
const ours = fs
  .readdirSync(dir)
  .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).raw as { metadata: { event_name: string }; body: Record<string, unknown> })
  .filter((raw) => !INSTRUCTURE_EVENT_NAMES.has(raw.metadata.event_name));

describe('our event types drop nothing', () => {
  it('covers the 50 types Instructure leaves out', () => expect(new Set(ours.map((r) => r.metadata.event_name)).size).toBe(50));

  it.each(ours.map((raw) => [raw.metadata.event_name, raw] as const))('%s: every body value is in the output', (_name, raw) => {
    const envelope = mapEvent(raw, { sendTime: '2020-01-01T00:00:00.000Z' });
    expect(validateEnvelope(envelope, { departures: false })).toEqual({ ok: true });
    expect(missingBodyValues(raw, envelope)).toEqual([]);
  });
});
