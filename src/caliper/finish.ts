// The per-event path's fast path for the instructure format: the envelope as published (nulls, empty
// objects and credentials gone: `finish`) built and checked in one walk (the rules of
// `validateEnvelope`), instead of a copying walk and then two checking walks. It never says yes where
// `finish` + `validateEnvelope` would say no: it returns undefined at the first doubt, and the engine
// then takes the slow path, which words the error (test/finish.test.ts holds both paths to the same
// output on every fixture event and on thousands of seeded mutations of them). Objects that need no
// change are kept as they are (copy on write): they are the builders' own, never the caller's input.
import { clean, finishString } from '../../mappers/values.js';
import { ACTIONS, allowedProperties, CALIPER_CONTEXT, ENTITY_TYPES, EVENT_TYPES, isA, PROPERTY_KINDS, requiredProperties, type Envelope, type PropertyKind } from './model.js';
import { checkEventRules, checkValue, DATE_TIME, EVENT_ENTITY_PROPS, IRI, UUID_URN, type Issue, type Mode } from './validate.js';
import { isPlainObject } from '../json.js';

/** Set by the walk when something is not valid; read and reset once per envelope. */
let bad = false;
/** Issues of `checkValue`/`checkEventRules` (a non-empty list is a no); cleared once per envelope. */
const issues: Issue[] = [];
const SPEC: Mode = { departures: false };
const INSTRUCTURE: Mode = { departures: true };
const EVENT_TYPE_SET = new Set<string>(EVENT_TYPES);
const ACTION_SET = new Set<string>(ACTIONS);

/** Per entity type, in one lookup: the types it is (itself and its supertypes), the properties it must have, and its properties' kinds, with and without Instructure's departures. */
interface TypeInfo {
  is: ReadonlySet<string>;
  required: readonly string[];
  instructure: ReadonlyMap<string, PropertyKind>;
  spec: ReadonlyMap<string, PropertyKind>;
}
const TYPES = new Map<string, TypeInfo>(
  ENTITY_TYPES.map((t) => [t, { is: new Set(ENTITY_TYPES.filter((a) => isA(t, a))), required: requiredProperties(t), instructure: kindsOf(t, true), spec: kindsOf(t, false) }]),
);
function kindsOf(type: string, departures: boolean): Map<string, PropertyKind> {
  return new Map([...allowedProperties(type, departures)].map((p) => [p, PROPERTY_KINDS[p] ?? 'object']));
}


/**
 * `finish` of the envelope of `event`, when that envelope passes `validateEnvelope` with these
 * departures; undefined otherwise (or when in doubt).
 */
export function finishValid(sensor: string, sendTime: string, event: Record<string, unknown>, departures: boolean): Envelope | undefined {
  bad = false;
  issues.length = 0;
  const mode = departures ? INSTRUCTURE : SPEC;
  const s = finishString(sensor);
  if (!IRI.test(s) || !DATE_TIME.test(sendTime)) return undefined;
  const e = finishEvent(event, mode);
  if (bad || e === undefined || issues.length > 0) return undefined;
  return { sensor: s, sendTime, dataVersion: CALIPER_CONTEXT, data: [e as never] };
}

function finishEvent(event: Record<string, unknown>, mode: Mode): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const key in event) {
    const v = event[key];
    if (v === null || v === undefined) continue;
    let done: unknown;
    switch (key) {
      case '@context':
      case 'id':
      case 'type':
      case 'action':
      case 'eventTime':
        if (typeof v !== 'string') return undefined;
        done = finishString(v);
        break;
      case 'extensions':
        done = isPlainObject(v) ? json(v) : wrongKind(v);
        break;
      default: {
        const expected = EVENT_ENTITY_PROPS[key];
        if (expected === undefined || !(key in EVENT_KEYS)) {
          if (clean(v) !== undefined) return undefined;
          continue; // not an event property, but `finish` drops it (an object of nulls)
        }
        // An entity reference: an IRI, or an entity whose id is an IRI.
        done = typeof v === 'string' ? iri(v) : isPlainObject(v) ? entity(v, expected, mode) : wrongKind(v);
      }
    }
    if (done !== undefined) out[key] = done;
  }
  if (
    out['@context'] !== CALIPER_CONTEXT ||
    !UUID_URN.test(out.id as string) ||
    !EVENT_TYPE_SET.has(out.type as string) ||
    !ACTION_SET.has(out.action as string) ||
    typeof out.eventTime !== 'string' ||
    !DATE_TIME.test(out.eventTime) ||
    out.actor === undefined ||
    out.object === undefined
  ) {
    return undefined;
  }
  checkEventRules(out as { type: (typeof EVENT_TYPES)[number]; action: (typeof ACTIONS)[number] }, '', issues, mode);
  return out;
}
/** The event's keys (EventShape's): a table without prototype, so `in` finds only these. */
const EVENT_KEYS: Record<string, true> = Object.assign(Object.create(null), { '@context': true, id: true, type: true, action: true, eventTime: true, extensions: true });
for (const key in EVENT_ENTITY_PROPS) EVENT_KEYS[key] = true;

function fail(): undefined {
  bad = true;
  return undefined;
}

/** A value of the wrong kind: dropped when `finish` leaves nothing of it (an object of nulls), a failure otherwise. */
const wrongKind = (v: unknown): undefined => (clean(v) === undefined ? undefined : fail());

function iri(value: string): string | undefined {
  const s = finishString(value);
  return IRI.test(s) ? s : fail();
}

/** An entity: a known type of the expected kind, with an id, only its type's properties, each of its kind. */
function entity(value: Record<string, unknown>, expected: string, mode: Mode): Record<string, unknown> | undefined {
  const type = value.type;
  const info = typeof type === 'string' ? TYPES.get(type) : undefined;
  if (info === undefined || !info.is.has(expected)) return wrongKind(value);
  const kinds = mode.departures ? info.instructure : info.spec;
  // Copy on write: the entity itself when nothing in it changes, else a copy from the first change on.
  let out: Record<string, unknown> | undefined;
  for (const key in value) {
    const v = value[key];
    let done: unknown;
    if (v !== null && v !== undefined) {
      const kind = kinds.get(key);
      if (kind !== undefined) done = byKind(kind, v, mode);
      else if (clean(v) !== undefined) return fail(); // not a property of the type (`finish` drops only an object of nulls)
    }
    if (done !== v || done === undefined) {
      out ??= copyUpTo(value, key);
      if (done !== undefined) out[key] = done; // never `__proto__`: no type has it
    } else if (out !== undefined) out[key] = v;
  }
  // The id was checked as an absolute IRI by its kind; an entity must have one, and its type's required properties.
  const result = out ?? value;
  if (typeof result.id !== 'string') return fail();
  for (let i = 0; i < info.required.length; i++) if (result[info.required[i]!] === undefined) return fail();
  return result;
}

/** A copy of the object's properties before `stop` (each kept as it is: the walk changed none of them). */
function copyUpTo(value: Record<string, unknown>, stop: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (key === stop) break;
    set(out, key, value[key]);
  }
  return out;
}

/** `out[key] = v`, where a `__proto__` key is data like any other. */
function set(out: Record<string, unknown>, key: string, v: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  else out[key] = v;
}

/** One property's value, finished and checked as its kind requires. */
function byKind(kind: PropertyKind, v: unknown, mode: Mode): unknown {
  switch (kind) {
    case 'entity':
      return typeof v === 'string' ? iri(v) : isPlainObject(v) ? entity(v, 'Entity', mode) : wrongKind(v);
    case 'entities': {
      if (!Array.isArray(v)) return wrongKind(v);
      let out: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        let done: unknown;
        if (item !== null && item !== undefined) {
          done = typeof item === 'string' ? iri(item) : isPlainObject(item) ? entity(item, 'Entity', mode) : fail();
          if (done === undefined) return fail();
        }
        if (done !== item || done === undefined) {
          out ??= v.slice(0, i);
          if (done !== undefined) out.push(done);
        } else if (out !== undefined) out.push(item);
      }
      return out ?? v;
    }
    case 'object':
    case 'extensions':
      return isPlainObject(v) ? json(v) : wrongKind(v);
    // The most frequent kinds, read directly when they hold a string (anything else: `checkValue` below).
    case 'iri':
      if (typeof v === 'string') return iri(v);
      break;
    case 'string':
    case 'type':
      if (typeof v === 'string') return finishString(v);
      break;
    case 'dateTime':
      if (typeof v === 'string') {
        const done = finishString(v);
        return DATE_TIME.test(done) ? done : fail();
      }
      break;
  }
  const done = json(v);
  if (done !== undefined && checkValue(kind, done, '', issues, mode) !== undefined) return fail();
  return done;
}

/** Free-form JSON (extensions): `finish` of it (copied on write), with no non-finite number. */
function json(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return finishString(value);
    case 'number':
      return Number.isFinite(value) ? value : fail();
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      // `finish` drops null items and keeps an item it empties as {}.
      const done = item === null || item === undefined ? undefined : (json(item) ?? {});
      if (done !== item || done === undefined) {
        out ??= value.slice(0, i);
        if (done !== undefined) out.push(done);
      } else if (out !== undefined) out.push(item);
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  let kept = 0;
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    const done = v === null || v === undefined ? undefined : json(v);
    if (done !== v || done === undefined) {
      out ??= copyUpTo(value as Record<string, unknown>, key);
      if (done !== undefined) set(out, key, done);
    } else if (out !== undefined) set(out, key, v);
    if (done !== undefined) kept++;
  }
  return kept === 0 ? undefined : (out ?? value);
}
