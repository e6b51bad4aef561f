// Property test over every supported event type: its documented raw example (the fixtures), its
// system-generated form, and a few hundred seeded random mutations (deleted, null and wrong-typed
// fields, big numbers, odd timestamps, hostile ids and URLs). Each input either maps to output that
// passes the validator, carries no credential and no changed value, or is refused with an error
// that names the field. Nothing crashes.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateEnvelope } from '../src/caliper/validate.js';
import { mapJson } from '../src/engine.js';
import { MappingError } from '../src/errors.js';
import { FORMATS, type Format } from '../src/formats/index.js';
import { INSTRUCTURE_EVENT_NAMES, MAPPERS } from '../mappers/index.js';
import { prng } from './helpers.js';
import { referenceProblems } from './reference-rules.js';
import { Privacy } from '../src/privacy/policy.js';
import { leaks } from './privacy-helpers.js';

type Raw = { metadata: Record<string, unknown>; body: Record<string, unknown> };
const dir = path.join(import.meta.dirname, 'fixtures', 'events');
/** One documented example per event type (the first fixture of each). */
const examples = new Map<string, Raw>();
for (const f of fs.readdirSync(dir).sort()) {
  const raw = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).raw as Raw;
  const name = raw.metadata.event_name as string;
  if (!examples.has(name)) examples.set(name, raw);
}

const REQUEST_FIELDS = ['request_id', 'hostname', 'session_id', 'url', 'referrer', 'user_agent', 'client_ip', 'http_method', 'user_id', 'real_user_id', 'user_login', 'user_sis_id', 'context_role'];
/** The same event as a Canvas job emits it: no request, no user. */
function systemForm(raw: Raw): Raw {
  const copy = structuredClone(raw);
  for (const f of REQUEST_FIELDS) delete copy.metadata[f];
  copy.metadata.job_id = '1020020528469291';
  copy.metadata.job_tag = 'Canvas::Migration::Worker::CourseCopyWorker#perform';
  return copy;
}

/** Mutations per event type (PROPERTY_MUTATIONS=500 for a long run). */
const PER_TYPE = Number(process.env.PROPERTY_MUTATIONS ?? 6);
const SECRET = 'S3CR3T';
/** Replacement values, as JSON text (so that numbers a double cannot hold reach the parser as written). */
const HOSTILE: string[] = [
  'null',
  '{"x":{"y":1}}',
  '[1,"a",null]',
  'true',
  '"ten"',
  '""',
  '-1',
  '1.5',
  '21070000000000565',
  '1e400',
  '"2019-11-05T13:38:00+99:99"',
  '"0019-03-01T10:00:00+02:00"',
  '"9999-12-31T23:00:00-05:00"',
  '1572961080',
  '"../../x?y=1#z"',
  '"565:section:7"',
  '"2107~565"',
  `"https://u:${SECRET}@x.test/a?access%5Ftoken=${SECRET}&pseudonym_session[password]=${SECRET}&code=${SECRET}"`,
  `"<a href='https://x.test/f?verifier=${SECRET}'>f</a>"`,
  // Credential words with prefixes and suffixes, encoded (issue 18).
  `"https://x.test/cb?oauth_verifier=${SECRET}&x%2Dapi%2Dkey=${SECRET}&session%5Btoken%5D=${SECRET}&SAML_Response=${SECRET}#auth_code=${SECRET}"`,
  '"constructor"',
  '"__proto__"',
];

interface Case {
  label: string;
  text: string;
}

function mutations(name: string, raw: Raw, count: number, rand: () => number): Case[] {
  const cases: Case[] = [];
  const fields: ['metadata' | 'body', string][] = [
    ...Object.keys(raw.body).map((k) => ['body', k] as ['body', string]),
    ...['user_id', 'context_id', 'context_type', 'context_role', 'event_time', 'url', 'referrer', 'hostname', 'session_id', 'real_user_id'].map(
      (k) => ['metadata', k] as ['metadata', string],
    ),
  ];
  for (let i = 0; i < count && fields.length; i++) {
    const [part, key] = fields[Math.floor(rand() * fields.length)]!;
    const copy = structuredClone(raw);
    const marker = '"__MUTATED__"';
    const replacement = rand() < 0.15 ? undefined : HOSTILE[Math.floor(rand() * HOSTILE.length)]!;
    if (replacement === undefined) delete copy[part][key];
    else copy[part][key] = '__MUTATED__';
    const text = JSON.stringify(copy).replace(marker, replacement ?? marker);
    cases.push({ label: `${name} ${part}.${key} ${replacement === undefined ? 'deleted' : `= ${replacement}`}`, text });
  }
  return cases;
}

/** Every number literal in a JSON text (outside strings): what the output's numbers may be. */
function numbersIn(value: unknown, out = new Set<number>()): Set<number> {
  if (typeof value === 'number') out.add(value);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) numbersIn(v, out);
  return out;
}

function check(c: Case, format: Format = 'instructure', privacy?: Privacy): 'mapped' | 'refused' {
  let envelope;
  try {
    envelope = mapJson(c.text, { sendTime: '2020-01-01T00:00:00.000Z', format, privacy });
  } catch (err) {
    if (!(err instanceof MappingError)) throw new Error(`${c.label}: crashed: ${String(err)}`);
    // Refused: with a code for bad input (never a mapper bug or invalid output) and a field named.
    expect(['INVALID_JSON', 'INVALID_RAW_EVENT', 'NOT_AN_OBJECT', 'UNKNOWN_EVENT'], `${c.label}: ${err.message}`).toContain(err.code);
    if (err.code === 'INVALID_RAW_EVENT') expect(err.message, c.label).toMatch(/(^|: )(metadata|body)(\.|\[|: |$)/);
    return 'refused';
  }
  const name = (JSON.parse(c.text) as Raw).metadata.event_name as string;
  const options = format === 'instructure' ? { departures: INSTRUCTURE_EVENT_NAMES.has(name) } : { format };
  expect(validateEnvelope(envelope, options), `${format} ${c.label}`).toEqual({ ok: true });
  // IMS's reference implementation (caliper-python, test/reference-rules.ts) builds every object of what
  // a strict format emits, and of our 50 types in the default one (Instructure's 32 keep its departures).
  if (format !== 'instructure' || !INSTRUCTURE_EVENT_NAMES.has(name)) {
    expect(referenceProblems(envelope, format === 'caliper-1.2' ? '1.2' : '1.1'), `${format} ${c.label}`).toEqual([]);
  }
  const out = JSON.stringify(envelope);
  expect(out, `${c.label}: a credential reached the output`).not.toContain(SECRET);
  // No changed value: every number published is one the input held.
  const allowed = numbersIn(JSON.parse(c.text));
  for (const n of numbersIn(envelope)) expect(allowed.has(n), `${c.label}: ${n} is not in the input`).toBe(true);
  // A policy other than keep: no personal value of the input in the output.
  if (privacy) expect(leaks(JSON.parse(c.text) as Raw, envelope), `${privacy.policy} ${format} ${c.label}`).toEqual([]);
  return 'mapped';
}

describe('every supported event type, its system-generated form and random mutations', () => {
  it('has an example for every supported type', () => {
    expect([...examples.keys()].sort()).toEqual([...MAPPERS.keys()].sort());
  });

  it.each([...examples.keys()])('%s: documented example and system-generated form map to valid Caliper', (name) => {
    const raw = examples.get(name)!;
    expect(check({ label: `${name} example`, text: JSON.stringify(raw) })).toBe('mapped');
    expect(check({ label: `${name} system-generated`, text: JSON.stringify(systemForm(raw)) })).toBe('mapped');
  });

  it.each(FORMATS)('random mutations of every type either map to valid Caliper (%s) or are refused by field', (format) => {
    const rand = prng(20261130);
    const outcomes = { mapped: 0, refused: 0 };
    for (const [name, raw] of examples) for (const c of mutations(name, raw, PER_TYPE, rand)) outcomes[check(c, format)]++;
    expect(outcomes.mapped + outcomes.refused).toBeGreaterThanOrEqual(80 * PER_TYPE);
    // Both outcomes occur: the mutations exercise the refusals and the tolerated oddities alike.
    expect(outcomes.mapped).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(100);
  });

  // The same seeded mutations in each privacy policy (src/privacy): valid, no personal value out, or refused by field.
  const POLICY_CASES = (['pseudonymise', 'drop'] as const).flatMap((policy) => FORMATS.map((format) => [policy, format] as const));
  it.each(POLICY_CASES)('random mutations with PRIVACY=%s (%s): valid, no personal value out, or refused by field', (policy, format) => {
    const privacy = new Privacy({ policy, key: Buffer.from('property-test key, thirty-two bytes or more') });
    const rand = prng(20261203);
    const outcomes = { mapped: 0, refused: 0 };
    for (const [name, raw] of examples) {
      outcomes[check({ label: `${name} system-generated`, text: JSON.stringify(systemForm(raw)) }, format, privacy)]++;
      for (const c of mutations(name, raw, PER_TYPE, rand)) outcomes[check(c, format, privacy)]++;
    }
    expect(outcomes.mapped).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(100);
  });
});
