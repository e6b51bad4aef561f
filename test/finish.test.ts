// The per-event path's fast path (src/caliper/finish.ts: finish and validate in one walk) against the
// slow path it stands in for (`finish`, then `validateEnvelope`): on every fixture's event and on
// thousands of seeded mutations of those events — nulls, empty objects, unknown keys, `__proto__`,
// values of the wrong kind, non-finite numbers, credentials in strings, relative IRIs — the fast path
// gives exactly the slow path's envelope when that one is valid, and no envelope when it is not.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { finishValid } from '../src/caliper/finish.js';
import { CALIPER_CONTEXT } from '../src/caliper/model.js';
import { validateEnvelope } from '../src/caliper/validate.js';
import { deterministicEventId, mapEvent } from '../src/engine.js';
import type { RawEvent } from '../src/raw.js';
import { caliperEvent, edApp } from '../mappers/builders.js';
import { INSTRUCTURE_EVENT_NAMES, MAPPERS } from '../mappers/index.js';
import { finish } from '../mappers/values.js';
import { Privacy } from '../src/privacy/policy.js';
import { prng } from './helpers.js';

const dir = path.join(import.meta.dirname, 'fixtures', 'events');
const raws: RawEvent[] = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).raw);
const SEND_TIME = '2020-01-01T00:00:00.000Z';

/** The event as the builders make it, before finishing (what the engine hands to either path). */
function built(raw: RawEvent): { sensor: string; event: Record<string, unknown>; departures: boolean } {
  const mapper = MAPPERS.get(raw.metadata.event_name)!;
  const departures = INSTRUCTURE_EVENT_NAMES.has(mapper.eventName);
  const event = caliperEvent(raw, mapper, mapper.map(raw), deterministicEventId(raw), departures) as unknown as Record<string, unknown>;
  return { sensor: edApp(raw.metadata).id, event, departures };
}

/** The privacy policies: applied to the raw event (src/privacy/policy.ts) before it is built, so both paths see only what the policy left. */
const KEY = Buffer.from('the finish test key: thirty-two bytes or more');
const POLICIES: Privacy[] = [
  new Privacy({ policy: 'pseudonymise', key: KEY }),
  new Privacy({ policy: 'pseudonymise', key: KEY, keepText: true, ip: 'drop', keyId: 'k@1=2' }),
  new Privacy({ policy: 'drop', key: KEY }),
];

/** Both paths on one event: the fast one must be the slow one's envelope exactly, or nothing when that is invalid. */
function compare(sensor: string, event: Record<string, unknown>, departures: boolean, label: string): 'valid' | 'invalid' {
  const slow = finish({ sensor, sendTime: SEND_TIME, dataVersion: CALIPER_CONTEXT, data: [event] });
  const verdict = validateEnvelope(slow, { departures });
  const fast = finishValid(sensor, SEND_TIME, event, departures);
  if (!verdict.ok) {
    expect(fast, `${label}: the fast path accepted what the validator refuses (${verdict.error})`).toBeUndefined();
    return 'invalid';
  }
  expect(fast, `${label}: the fast path refused a valid event`).toBeDefined();
  expect(sameTree(fast, slow), label).toBe(true);
  expect(JSON.stringify(fast), label).toBe(JSON.stringify(slow));
  return 'valid';
}

/** The same keys in the same order, own and enumerable, and the same values (Object.is), all the way down. */
function sameTree(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  return (
    Object.getPrototypeOf(a) === Object.getPrototypeOf(b) &&
    ka.length === kb.length &&
    ka.every((k, i) => k === kb[i] && sameTree((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k]))
  );
}

const SECRET = 'S3CR3T';
/** Mutations per fixture event (FINISH_MUTATIONS=1000 and FINISH_SEED for a long run). */
const MUTATIONS = Number(process.env.FINISH_MUTATIONS ?? 30);
/** What a mutation puts somewhere in the event. */
const VALUES: (() => unknown)[] = [
  () => null,
  () => undefined,
  () => ({}),
  () => [],
  () => [null],
  () => ({ a: null }),
  () => NaN,
  () => Infinity,
  () => 1.5,
  () => -3,
  () => true,
  () => '',
  () => 'x',
  () => 'not an iri',
  () => 'urn:x:1',
  () => '2020-01-01T00:00:00.000Z',
  () => 'PT5M',
  () => 'Learner',
  () => `https://u:p@x.test/a?access_token=${SECRET}&a=1`,
  () => ({ id: 'urn:x:1', type: 'Person' }),
  () => ({ id: 'urn:x:1', type: 'Nope' }),
  () => ({ id: 'relative', type: 'Entity' }),
  () => ({ id: 'urn:x:1', type: 'Entity', name: null, extensions: {} }),
  () => ({ type: 'Entity' }),
  () => ['urn:x:1', { id: 'urn:x:2', type: 'Person' }],
  () => ({ nested: { deeper: [1, null, { z: null }] } }),
];
const KEYS = ['__proto__', 'constructor', 'toString', 'unknownKey', 'name', 'extensions', 'type', 'id', 'roles', 'maxScore', 'isPartOf', 'creators', 'body', 'dateCreated', 'duration'];

/** Every object in the event with its path (the event itself first). */
function objects(value: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (value && typeof value === 'object') {
    if (!Array.isArray(value)) out.push(value as Record<string, unknown>);
    for (const v of Object.values(value)) objects(v, out);
  }
  return out;
}

/** One random change somewhere in a copy of the event: a value replaced, a key removed or added. */
function mutate(event: Record<string, unknown>, rand: () => number): [Record<string, unknown>, string] {
  const copy = structuredClone(event);
  const all = objects(copy);
  const target = all[Math.floor(rand() * all.length)]!;
  const keys = Object.keys(target);
  const value = VALUES[Math.floor(rand() * VALUES.length)]!();
  const r = rand();
  let what: string;
  if (r < 0.15 && keys.length) {
    const key = keys[Math.floor(rand() * keys.length)]!;
    delete target[key];
    what = `deleted ${key}`;
  } else if (r < 0.35) {
    const key = KEYS[Math.floor(rand() * KEYS.length)]!;
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
    what = `${key} = ${String(JSON.stringify(value))}`;
  } else {
    const key = keys[Math.floor(rand() * keys.length)] ?? 'x';
    target[key] = value;
    what = `${key} = ${String(JSON.stringify(value))}`;
  }
  return [copy, what];
}

describe('the fused finish-and-validate walk', () => {
  it('gives the slow path’s envelope for every fixture event', () => {
    for (const raw of raws) {
      const { sensor, event, departures } = built(raw);
      expect(compare(sensor, event, departures, `${raw.metadata.event_name}`)).toBe('valid');
    }
  });

  it('agrees with the slow path on seeded mutations of every fixture event', () => {
    const rand = prng(Number(process.env.FINISH_SEED ?? 20261130));
    const seen = { valid: 0, invalid: 0 };
    for (const raw of raws) {
      const { sensor, event, departures } = built(raw);
      for (let i = 0; i < MUTATIONS; i++) {
        let [mutated, what] = mutate(event, rand);
        // Half of them get a second change, so that changes meet (a null next to an unknown key, …).
        if (rand() < 0.5) {
          const [again, second] = mutate(mutated, rand);
          [mutated, what] = [again, `${what}; ${second}`];
        }
        const verdict = compare(sensor, mutated, departures, `${raw.metadata.event_name}: ${what}`);
        seen[verdict]++;
      }
    }
    // Both verdicts occur often: the mutations reach both sides of every rule.
    expect(seen.valid).toBeGreaterThan(500);
    expect(seen.invalid).toBeGreaterThan(500);
  });

  it('gives the slow path’s envelope for every fixture event as each privacy policy makes it, and on seeded mutations of them', () => {
    const rand = prng(Number(process.env.FINISH_SEED ?? 20261203));
    const seen = { valid: 0, invalid: 0 };
    for (const raw of raws) {
      for (const policy of POLICIES) {
        const { sensor, event, departures } = built(policy.event(raw));
        expect(compare(sensor, event, departures, `${raw.metadata.event_name} (${policy.policy})`)).toBe('valid');
        for (let i = 0; i < MUTATIONS / 3; i++) {
          const [mutated, what] = mutate(event, rand);
          seen[compare(sensor, mutated, departures, `${raw.metadata.event_name} (${policy.policy}): ${what}`)]++;
        }
      }
    }
    expect(seen.valid).toBeGreaterThan(300);
    expect(seen.invalid).toBeGreaterThan(100);
  });

  it('shares no object or array with the input (the walk keeps what needs no change, but never the caller’s own objects)', () => {
    const objects = (v: unknown, out = new Set<unknown>()): Set<unknown> => {
      if (v !== null && typeof v === 'object') {
        out.add(v);
        for (const x of Object.values(v)) objects(x, out);
      }
      return out;
    };
    for (const raw of raws) {
      for (const privacy of [undefined, ...POLICIES]) {
        const input = structuredClone(raw);
        const shared = [...objects(mapEvent(input, { sendTime: SEND_TIME, privacy }))].filter((o) => objects(input).has(o));
        expect(shared, `${raw.metadata.event_name} (${privacy?.policy ?? 'keep'})`).toEqual([]);
      }
    }
  });

  it('refuses an envelope-level problem: a sensor that is not an IRI, a sendTime not in UTC', () => {
    const { event, departures } = built(raws[0]!);
    expect(finishValid('not an iri', SEND_TIME, event, departures)).toBeUndefined();
    expect(finishValid('http://canvas.test/', '2020-01-01T00:00:00Z', event, departures)).toBeUndefined();
    expect(finishValid('http://canvas.test/', SEND_TIME, event, departures)).toBeDefined();
  });
});
