// Parsing a JSON text without changing a value: JSON.parse turns every number into a double, so a
// number that a double cannot hold (21070000000000565, 1e400, 1e-400, 0.1234567890123456789) would
// be published as another value. `parseJson` refuses such a text, naming the field.
import { FieldError, MappingError } from './errors.js';

/** A JSON object (not null, not an array). */
export const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Deeper than this, an input is refused (Canvas's events are a few levels deep; walks stay far from the stack limit). */
export const MAX_DEPTH = 64;

/**
 * A quick test that a text may hold a number a double does not keep exactly: a number token (after
 * `:`, `,` or `[`) with 16 or more digits, or with an exponent. Digits inside strings (Canvas's
 * 17-digit ids are strings) do not match; the rare false positive only costs the exact scan below.
 */
const MAYBE_INEXACT = /[:,[]\s*-?(?:\d(?:\.?\d){15}|\d+(?:\.\d+)?[eE])/;

/** Parses one JSON text; throws a MappingError (INVALID_JSON, or INVALID_RAW_EVENT naming the field of a number a double cannot hold). */
export function parseJson(text: string, what = ''): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MappingError('INVALID_JSON', `invalid JSON${what}: ${(err as Error).message}`);
  }
  if (MAYBE_INEXACT.test(text)) {
    const problem = inexactNumber(text);
    if (problem) throw new MappingError('INVALID_RAW_EVENT', `${problem.message}`, eventNameIn(value));
  }
  return value;
}

const eventNameIn = (v: unknown): string | undefined => {
  const name = (v as { metadata?: { event_name?: unknown } } | null)?.metadata?.event_name;
  return typeof name === 'string' ? name : undefined;
};

/** The significant digits and decimal exponent of a JSON number literal: "0012.50e1" → ["125", 0]. */
function decimal(literal: string): [string, number] {
  const m = /^-?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(literal)!;
  const int = m[1] ?? '';
  const frac = m[2] ?? '';
  let digits = int + frac;
  let exp = Number(m[3] ?? 0) - frac.length;
  const lead = digits.search(/[^0]/);
  if (lead === -1) return ['0', 0];
  digits = digits.slice(lead);
  const trail = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trail);
  exp += trail;
  return [digits, exp];
}

/** Does the double JSON.parse made of `literal` write back as the same decimal number? */
export function isExact(literal: string): boolean {
  const n = Number(literal);
  if (!Number.isFinite(n)) return false;
  const [d1, e1] = decimal(literal);
  const [d2, e2] = decimal(String(Math.abs(n)).replace(/^(\d)/, '$1'));
  return d1 === d2 && (d1 === '0' || e1 === e2) && (n !== 0 || d1 === '0');
}

/**
 * Scans a JSON text (already known to parse) for a number literal that a double does not hold
 * exactly, and names its field (`body.score`, `body.items[2].points`).
 */
export function inexactNumber(text: string): FieldError | undefined {
  // One frame per open object/array: the key (or index) of the value being read in it.
  const frames: { array: boolean; key: string | number }[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      const j = stringEnd(text, i);
      i = j + 1;
      while (i < text.length && text.charCodeAt(i) <= 0x20) i++;
      const top = frames[frames.length - 1];
      if (top && !top.array && text.charCodeAt(i) === 0x3a /* : */) top.key = JSON.parse(text.slice(start, j + 1)) as string;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      frames.push({ array: c === 0x5b, key: c === 0x5b ? 0 : '' });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      frames.pop();
    } else if (c === 0x2c /* , */) {
      const top = frames[frames.length - 1];
      if (top?.array) top.key = (top.key as number) + 1;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < text.length && NUMBER_CHAR.test(text[j]!)) j++;
      const literal = text.slice(i, j);
      if (!isExact(literal)) {
        return new FieldError(
          formatPath(frames.map((f) => f.key)),
          `the number ${literal.length > 40 ? `${literal.slice(0, 40)}…` : literal} cannot be kept exactly (a JSON number is a double: at most 15–17 significant digits, magnitude 5e-324 to 1.8e308); send it as a string`,
        );
      }
      i = j;
      continue;
    }
    i++;
  }
  return undefined;
}
const NUMBER_CHAR = /[\d.eE+-]/;

/** The index of the closing quote of the JSON string token that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  for (;;) {
    j = text.indexOf('"', j);
    let backslashes = 0;
    while (text.charCodeAt(j - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return j;
    j++;
  }
}

/**
 * The path of the first object or array nested MAX_DEPTH levels deep in a parsed value (the depth the
 * event id's walk refuses), or undefined. Walks at most MAX_DEPTH levels, whatever the input's depth.
 */
export function tooDeepPath(value: unknown, depth = 0, path = ''): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_DEPTH) return path || '(input)';
  const array = Array.isArray(value);
  for (const key in value) {
    const found = tooDeepPath((value as Record<string, unknown>)[key], depth + 1, array ? `${path}[${key}]` : path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return undefined;
}

/** Why an input nested too deep is refused, naming where: the worker's reason, and serve's. */
export const tooDeepDescription = (value: unknown): string => `${tooDeepPath(value) ?? '(input)'}: nested more than ${MAX_DEPTH} levels deep (Canvas events are a few levels deep)`;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const skipSpace = (text: string, i: number) => {
  while (isSpace(text.charCodeAt(i))) i++;
  return i;
};

/**
 * The text of a JSON object without its top-level members named in `keys`: every other member exactly
 * as written (only the whitespace around the commas between members may change). `text` must be a
 * valid JSON object (it was parsed before); a text without such a member is returned as it is.
 */
export function withoutMembers(text: string, keys: ReadonlySet<string>): string {
  const members: { key: string; start: number; end: number }[] = [];
  let i = text.indexOf('{') + 1;
  for (;;) {
    i = skipSpace(text, i);
    if (text.charCodeAt(i) === 0x7d /* } */) break;
    const start = i;
    const close = stringEnd(text, i);
    const key = JSON.parse(text.slice(i, close + 1)) as string;
    i = skipSpace(text, close + 1) + 1; // past the colon
    // The value ends at the first comma or closing bracket of this level.
    for (let depth = 0; ; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) i = stringEnd(text, i);
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth === 0) break;
        depth--;
      } else if (c === 0x2c && depth === 0) break;
    }
    let end = i;
    while (isSpace(text.charCodeAt(end - 1))) end--;
    members.push({ key, start, end });
    if (text.charCodeAt(i) !== 0x2c) break;
    i++;
  }
  if (!members.some((m) => keys.has(m.key))) return text;
  const kept = members.filter((m) => !keys.has(m.key)).map((m) => text.slice(m.start, m.end));
  return text.slice(0, members[0]!.start) + kept.join(',') + text.slice(members.at(-1)!.end);
}

function formatPath(path: (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}
