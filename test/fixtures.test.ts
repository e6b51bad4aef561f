// Every documented Instructure Caliper example (31 event types + 40 asset_accessed examples), as a
// fixture pair: our output for the aligned raw input equals Instructure's, field for field, apart
// from the event id and sendTime. See test/fixtures/align.mjs for how the pairs were written.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapEvent } from '../src/engine.js';
import { validateEnvelope } from '../src/caliper/validate.js';
import { INSTRUCTURE_EVENT_NAMES, MAPPERS } from '../mappers/index.js';

const dir = path.join(import.meta.dirname, 'fixtures', 'events');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const load = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));

describe('Instructure documented examples', () => {
  it.each(files)('%s maps to Instructure’s Caliper', (file) => {
    const { raw, caliper } = load(file);
    const envelope = mapEvent(raw, { sendTime: caliper.sendTime });
    expect(envelope.data[0].id).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const expected = structuredClone(caliper);
    expected.data[0].id = envelope.data[0].id;
    expect(envelope).toEqual(expected);
    // Instructure's own types may carry its documented departures; ours must be spec-valid.
    expect(validateEnvelope(envelope, { departures: INSTRUCTURE_EVENT_NAMES.has(raw.metadata.event_name) })).toEqual({ ok: true });
  });

  it('covers every supported event type and all 40 asset_accessed examples', () => {
    const covered = new Set(files.map((f) => load(f).raw.metadata.event_name));
    expect([...covered].sort()).toEqual([...MAPPERS.keys()].sort());
    expect(MAPPERS.size).toBe(82);
    expect(files.filter((f) => f.startsWith('asset_accessed.')).length).toBe(40);
  });
});
