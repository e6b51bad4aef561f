// Takes every secret we hold out of a text that could be logged, parked in the DLQ or printed: the
// bearer token(s), OAuth access tokens, the client secret and its Basic credential, the endpoint URL's
// query values, the extra headers' values. A peer may echo a secret in any form, so each one is
// matched character by character in any mix of its forms — raw, JSON-escaped (`\/`, `\"`, `\uXXXX`),
// percent-encoded (either case, `+` for a space) — and so is any `Bearer …` / `Basic …` credential.
// Callers redact the whole text first and cut it to length after: a secret across the cut is
// otherwise left in part.

export const REDACTED = '[redacted]';

/** Secrets shorter than this are not looked for: they would take words out of every message. */
export const MIN_SECRET = 4;

const hex = (n: number, width: number) =>
  n
    .toString(16)
    .padStart(width, '0')
    .split('')
    .map((d) => (/[a-f]/.test(d) ? `[${d}${d.toUpperCase()}]` : d))
    .join('');

const literal = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/**
 * A JSON escape's backslash, as often as it was escaped again (a JSON answer that quotes a JSON text
 * writes `\\/` for `\/`).
 */
const BACKSLASHES = '\\\\+';

/** JSON's short escapes: how a JSON encoder may write these characters (after BACKSLASHES). */
const JSON_SHORT: Record<string, string> = { '"': '"', '\\': BACKSLASHES, '/': '/', '\n': 'n', '\r': 'r', '\t': 't', '\b': 'b', '\f': 'f' };

/** Every way one character of a secret may be written: raw, `\uXXXX`, a JSON short escape, percent-encoded UTF-8, `+` for a space. */
function characterForms(ch: string): string {
  const short = JSON_SHORT[ch] === undefined ? undefined : BACKSLASHES + JSON_SHORT[ch];
  const units = [...Array(ch.length).keys()].map((i) => `${BACKSLASHES}u${hex(ch.charCodeAt(i), 4)}`).join('');
  const percent = [...Buffer.from(ch, 'utf8')].map((b) => `%${hex(b, 2)}`).join('');
  const forms = [literal(ch), units, percent, short, ch === ' ' ? '\\+' : undefined].filter((f): f is string => f !== undefined);
  return `(?:${forms.join('|')})`;
}

const patterns = new Map<string, RegExp>();

/** The pattern that finds one secret in any mix of its forms (cached: the same secrets are looked for again and again). */
function patternOf(secret: string): RegExp {
  let re = patterns.get(secret);
  if (!re) {
    re = new RegExp([...secret].map(characterForms).join(''), 'g');
    if (patterns.size > 256) patterns.clear();
    patterns.set(secret, re);
  }
  return re;
}

/** A credential in an Authorization-like header, whatever token we hold. */
const CREDENTIAL = /\b(Bearer|Basic)(\s+|%20|\+)[A-Za-z0-9._~+/=%\\-]+/gi;

/** `text` with every secret (in any of its forms) and any bearer/basic credential replaced by `[redacted]`. */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  // Longest first: a secret that contains another is taken out whole.
  for (const s of [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET).sort((a, b) => b.length - a.length)) out = out.replace(patternOf(s), REDACTED);
  return out.replace(CREDENTIAL, (_, scheme: string, space: string) => `${scheme}${space}${REDACTED}`);
}

/** How many characters of text one character of a secret may take at most (`%E2%82%AC`). */
const WIDEST_FORM = 9;

/**
 * `text` cut to `bytes` of UTF-8 after redaction. When the text itself was cut before (a body read only
 * in part), its last characters may begin a secret that the cut left incomplete: as many as the widest
 * written form of the longest secret go too.
 */
export function redactAndCut(text: string, secrets: Iterable<string>, bytes: number, truncated = false): string {
  const list = [...secrets];
  let out = redact(text, list);
  if (truncated) out = out.slice(0, Math.max(0, out.length - Math.max(0, ...list.map((s) => s.length)) * WIDEST_FORM)) + '…';
  const buf = Buffer.from(out, 'utf8');
  return buf.length <= bytes ? out : buf.subarray(0, bytes).toString('utf8').replace(/\uFFFD$/, '');
}

/** The values of a URL's query string, decoded and as written: an API key is often one. */
export function queryValues(url: string): string[] {
  const u = new URL(url);
  const raw = u.search
    .slice(1)
    .split('&')
    .map((kv) => kv.slice(kv.indexOf('=') + 1));
  return [...u.searchParams.values(), ...raw].filter((v) => v.length >= MIN_SECRET);
}
