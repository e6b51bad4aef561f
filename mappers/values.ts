// Value normalisers shared by every builder: Canvas sends ids as strings or numbers, timestamps in
// several shapes, and URLs that may carry credentials. Caliper wants one shape for each.
import { FieldError } from '../src/errors.js';
import { maskUrl } from '../src/privacy/url.js';
import { CANVAS_ID } from '../src/raw.js';

export type RawId = string | number;

/** A short description of a value's JSON type, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

/** An LTI id Canvas emits (resource_link_id, lti_context_id: 40 hex digits, or a UUID): URN-safe characters only. */
const LTI_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,254}$/;

export function ltiIdString(value: unknown, field: string): string {
  if (typeof value === 'string' && LTI_ID.test(value)) return value;
  throw new FieldError(field, `${describe(value)} is not an LTI id (letters, digits, '.', '_', '~', '-')`);
}


/**
 * A privacy pseudonym (src/privacy/policy.ts): `ps` + 32 lowercase hex digits. The privacy pass puts
 * one in the raw event in place of a user id, after the raw schemas checked the id Canvas sent.
 */
const PSEUDONYM = /^ps[0-9a-f]{32}$/;

/**
 * A Canvas id as a string. Numbers past 2^53 have already lost digits in JSON.parse, so they are
 * refused, and so is anything that is not an id Canvas emits (it would make a wrong or ambiguous URN)
 * or a privacy pseudonym in its place.
 */
export function idString(value: RawId, field: string): string {
  if (typeof value === 'string') {
    if (CANVAS_ID.test(value) || (value.length === 34 && PSEUDONYM.test(value))) return value;
    throw new FieldError(field, `${describe(value)} is not a Canvas id (decimal digits, or a global id such as 2107~565)`);
  }
  if (typeof value !== 'number') throw new FieldError(field, `must be a Canvas id (a string or an integer), not ${describe(value)}`);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new FieldError(field, `numeric id ${value} is not a non-negative integer below 2^53 (larger ids lose digits in JSON: send ids as strings)`);
  }
  return String(value);
}

/** ISO 8601 (`T`, optional seconds fraction, `Z` or ±hh:mm / ±hhmm / ±hh, or no zone) and Ruby's `2019-11-05 07:38:00 -0800` / `… UTC`. */
const CANVAS_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T|\s)(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s?(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * `YYYY-MM-DDTHH:mm:ss.SSSZ` in UTC, as Caliper requires. Accepts exactly the forms Canvas sends:
 * ISO 8601 with or without seconds fraction and with `Z`, an offset, or no zone (UTC, as Canvas
 * serialises), and Ruby's `2019-11-05 07:38:00 -0800`. Offsets must lie in −12:00…+14:00; a time
 * past year 9999 or before year 0000 in UTC is refused. Fractions beyond milliseconds are cut (Caliper has ms).
 */
export function caliperTime(value: string, field: string): string {
  // The two forms Canvas mostly sends, read without a regex or a slice: `…:ssZ` and `…:ss.SSSZ`.
  if (value.length === 20 && value.charCodeAt(19) === 0x5a /* Z */ && isDateTimeAt(value)) return `${value.slice(0, 19)}.000Z`;
  if (value.length === 24 && value.charCodeAt(19) === 0x2e /* . */ && value.charCodeAt(23) === 0x5a && isDigits(value, 20, 23) && isDateTimeAt(value)) return value;
  const m = CANVAS_TIME.exec(value);
  if (!m) throw new FieldError(field, `"${value}" is not a timestamp (expected ISO 8601)`);
  const [, y, mo, d, h, mi, s = '00', frac = '', zone = 'Z'] = m as unknown as string[];
  if (+mo! < 1 || +mo! > 12 || +d! < 1 || +d! > daysInMonth(+y!, +mo!) || +h! > 23 || +mi! > 59 || +s > 59) {
    throw new FieldError(field, `"${value}" is not a valid date-time`);
  }
  const ms = (frac + '000').slice(0, 3);
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'UTC') {
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2, 4) || '0');
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
    if (minutes > 59 || offsetMinutes < -12 * 60 || offsetMinutes > 14 * 60) {
      throw new FieldError(field, `"${value}" has an offset ${zone} outside −12:00…+14:00`);
    }
  }
  if (offsetMinutes === 0) return `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`;
  const date = new Date(0);
  // setUTCFullYear: Date.UTC would read years 0–99 as 1900–1999.
  date.setUTCFullYear(+y!, +mo! - 1, +d!);
  date.setUTCHours(+h!, +mi! - offsetMinutes, +s, +ms);
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new FieldError(field, `"${value}" is outside years 0000–9999 in UTC`);
  return `${String(year).padStart(4, '0')}${date.toISOString().slice(-20)}`;
}

/** Whether `value` starts with `YYYY-MM-DDTHH:mm:ss` naming a real date and time (no 2019-02-30, no 24:00). */
function isDateTimeAt(value: string): boolean {
  if (!isDigits(value, 0, 4) || value.charCodeAt(4) !== 0x2d || value.charCodeAt(7) !== 0x2d || value.charCodeAt(10) !== 0x54 /* T */) return false;
  if (value.charCodeAt(13) !== 0x3a || value.charCodeAt(16) !== 0x3a) return false;
  const mo = twoDigits(value, 5);
  const d = twoDigits(value, 8);
  const year = twoDigits(value, 0) * 100 + twoDigits(value, 2);
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(year, mo) && twoDigits(value, 11) <= 23 && twoDigits(value, 14) <= 59 && twoDigits(value, 17) <= 59;
}

/** The number two decimal digits at `i` make, or NaN (every comparison with it fails). */
function twoDigits(value: string, i: number): number {
  const a = value.charCodeAt(i) - 48;
  const b = value.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

function isDigits(value: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * The envelope as it is published: a copy without null, undefined or empty-object values
 * (Instructure emits no nulls, and Caliper says null or empty properties SHOULD be excluded), with
 * every URL in any string masked (`maskUrl`: request_url, referrer, URL fields, links in HTML bodies
 * alike: query values not on Canvas's allowlist, userinfo, `;`-parameters). Arrays keep their order; their null items go too. Keys are
 * defined, not assigned, so a `__proto__` field stays data.
 */
export function finish<T>(value: T): T {
  const out = clean(value);
  return (out === undefined ? {} : out) as T;
}

/**
 * A string as it is published: `maskUrl` of it, which returns a string with no URL part (no `=`, `?`
 * or `@`) as it is after at most three one-character searches: most strings (ids, names, times) hold none.
 */
export const finishString = (value: string): string => maskUrl(value);

/** `finish` of one value; undefined for null, undefined and an object left empty (its parent drops it). */
export function clean(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return finishString(value);
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === null || item === undefined) continue;
      const done = clean(item);
      out.push(done === undefined ? {} : done);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (v === null || v === undefined) continue;
    const done = clean(v);
    if (done === undefined) continue;
    if (key === '__proto__') Object.defineProperty(out, key, { value: done, enumerable: true, writable: true, configurable: true });
    else out[key] = done;
    kept++;
  }
  return kept === 0 ? undefined : out;
}
