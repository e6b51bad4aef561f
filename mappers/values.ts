// Value normalisers shared by every builder: Canvas sends ids as strings or numbers, timestamps in
// several shapes, and URLs that may carry credentials. Caliper wants one shape for each.
import { FieldError } from '../src/errors.js';

export type RawId = string | number;

/** A Canvas id as a string. Numbers past 2^53 have already lost digits in JSON.parse, so they are refused. */
export function idString(value: RawId, field: string): string {
  if (typeof value === 'string') return value;
  if (!Number.isSafeInteger(value)) {
    throw new FieldError(field, `numeric id ${value} is not a safe integer (digits were lost in JSON); send ids as strings`);
  }
  return String(value);
}

const CALIPER_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CANVAS_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * `YYYY-MM-DDTHH:mm:ss.SSSZ` in UTC, as Caliper requires. Accepts ISO 8601 with or without
 * milliseconds and with an offset, a bare date, and Ruby's `2019-11-05 07:38:00 -0800` that Canvas also emits.
 * A time with no zone is taken as UTC (Canvas serialises UTC).
 */
export function caliperTime(value: string, field: string): string {
  if (CALIPER_TIME.test(value)) return value;
  const m = CANVAS_TIME.exec(value);
  if (!m) throw new FieldError(field, `"${value}" is not a timestamp (expected ISO 8601)`);
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m as unknown as string[];
  if (+mo! < 1 || +mo! > 12 || +d! < 1 || +d! > daysInMonth(+y!, +mo!) || +h > 23 || +mi > 59 || +s > 59) {
    throw new FieldError(field, `"${value}" is not a valid date-time`);
  }
  const ms = (frac + '000').slice(0, 3);
  const z = zone.toUpperCase();
  // UTC already (the usual case): only the milliseconds are missing or of another precision.
  if (z === 'Z' || z === 'UTC' || z === 'GMT' || /^[+-]00:?(00)?$/.test(z)) return `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`;
  const sign = z.startsWith('-') ? -1 : 1;
  const digits = z.slice(1).replace(':', '');
  const offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  return new Date(Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s, +ms) - offsetMinutes * 60_000).toISOString();
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Query or fragment parameters whose values are credentials. Canvas's own examples carry some of them. */
const SECRET_PARAMS = [
  'access_token',
  'refresh_token',
  'id_token',
  'auth_token',
  'session_token',
  'verifier',
  'api_key',
  'apikey',
  'client_secret',
  'secret',
  'password',
  'token',
  'signature',
  'sig',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
];
const SECRET_RE = new RegExp(`([?&#;](?:${SECRET_PARAMS.join('|')})=)[^&#;]*`, 'gi');
export const FILTERED = '[FILTERED]';

/** The URL with every credential parameter's value replaced by `[FILTERED]`. */
export function safeUrl(url: string): string {
  return url.includes('=') ? url.replace(SECRET_RE, `$1${FILTERED}`) : url;
}

/**
 * A copy without null, undefined or empty-object values (Instructure emits no nulls, and Caliper says
 * null or empty properties SHOULD be excluded). Arrays keep their order; their null items go too.
 */
export function prune<T>(value: T): T {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) if (item !== null && item !== undefined) out.push(prune(item));
    return out as T;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    let kept = 0;
    for (const key in value as Record<string, unknown>) {
      const v = (value as Record<string, unknown>)[key];
      if (v === null || v === undefined) continue;
      const pruned = typeof v === 'object' ? prune(v) : v;
      if (pruned !== null && typeof pruned === 'object' && !Array.isArray(pruned) && isEmpty(pruned)) continue;
      out[key] = pruned;
      kept++;
    }
    return (kept === 0 ? {} : out) as T;
  }
  return value;
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}
