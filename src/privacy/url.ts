// The one URL reducer, at two levels, both by allowlist (src/privacy/canvas-routes.ts): what is not
// known to be harmless does not pass. (drop, the third level, removes a URL field whole.)
// - keep (`maskUrl`): every string of the output, under every policy. The URL as Canvas sent it, but the
//   value of each query or fragment parameter not on the allowlist is masked, and userinfo and
//   `;`-parameters are removed; in bare URLs and in URLs inside text (HTML bodies) alike.
// - pseudonymise (`reduceUrl`): a URL-valued field. A Canvas URL becomes its route (route words and
//   ids, users' ids pseudonymised, everything else a placeholder) with its allowlisted query; any
//   other http(s) URL its origin; anything else nothing.
import { ANY_ID, QUERY_ALLOWLIST, ROUTE_WORDS, USER_POSITIONS, type ParameterValue } from './canvas-routes.js';

/** What a masked value becomes: Instructure's own mask, so that its documented outputs stay as they are. */
export const MASK = '[FILTERED]';
/** What pseudonymise puts for a path segment that is neither a route word nor an id. */
export const PLACEHOLDER = '-';

// ---------------------------------------------------------------------------------------------
// Keep: mask

/**
 * Whether a string can hold anything maskUrl changes: a parameter (`=`, also of a `;name=value` path
 * parameter) or userinfo (`@`); nothing worth masking fits in four characters. Names, ids, times and
 * User-Agents hold neither, and the per-event path asks this of every string: two one-character
 * searches at most, no regex, as before the allowlist (a third search, for a bare `?token`, measured
 * about 25 ns a string, 1–2% of keep's path).
 */
export function mayHoldUrlParts(text: string): boolean {
  return text.length > 4 && (text.indexOf('=') !== -1 || text.indexOf('@') !== -1);
}

/**
 * A run of characters a URL in text can be made of (from a space, quote or bracket to the next), holding
 * one of the characters that matter. The lookbehind starts a match only where a run starts, so that a
 * long run without one is read once, not once from each of its characters.
 */
const TOKEN = /(?<![^\s"'<>`])[^\s"'<>`]*[=@;][^\s"'<>`]*/g;
/** A `;`-parameter in a path segment (`/users/5;jsessionid=…`, and a bare `;x` in a URL being masked anyway): up to the next `/`. */
const PATH_PARAMETER = /;[^/]*/g;
// Query and fragment items are separated by `&`, by `&amp;` in HTML, and by `;`; under keep, a second
// `?` separates too (maskItems): `?page=1?access_token=…` must not pass as page's value.

/**
 * The text with, in every URL it holds: the value of each query and fragment parameter that is not on
 * the allowlist (`QUERY_ALLOWLIST`) replaced by `[FILTERED]`; userinfo (`https://user:pass@host`,
 * `//user@host`) and `;`-parameters in paths removed. No credential needs to be known by name. A
 * bare query item (`?abc`) has no value and stays. A string without a URL part comes back as it is
 * (`mayHoldUrlParts`).
 */
export function maskUrl(text: string): string {
  if (!mayHoldUrlParts(text)) return text;
  // A bare URL (request_url, referrer: most strings that get this far) is one token.
  return SPACE_OR_QUOTE.test(text) ? text.replace(TOKEN, maskToken) : maskToken(text);
}
const SPACE_OR_QUOTE = /[\s"'<>`]/;

function maskToken(token: string): string {
  // A token with a `://` or starting with `/` is a URL (or holds one): its `;`-parameters are a
  // URL's, not punctuation.
  const isUrl = token.charCodeAt(0) === 0x2f || token.indexOf('://') !== -1;
  const q = token.indexOf('?');
  const h = token.indexOf('#');
  const end = q === -1 ? h : h === -1 ? q : Math.min(q, h);
  let base = end === -1 ? token : token.slice(0, end);
  if (base.indexOf('@') !== -1) base = withoutUserinfo(base);
  if (isUrl && base.indexOf(';') !== -1) base = base.replace(PATH_PARAMETER, '');
  if (end === -1) return base;
  // The query (after the first `?`, up to a `#`) and the fragment are masked when they have a
  // parameter (`what?x=5` in text reads as a query too: masking it is the safe mistake; `#section-2`
  // is a place in a page).
  let query = '';
  let fragment = '';
  if (end === q) {
    const queryEnd = h > q ? h : token.length;
    const text = token.slice(q + 1, queryEnd);
    query = `?${text.indexOf('=') !== -1 ? maskItems(text) : text}`;
    if (h > q) fragment = token.slice(h);
  } else fragment = token.slice(h);
  if (fragment.indexOf('=') !== -1) fragment = `#${maskItems(fragment.slice(1))}`;
  return base + query + fragment;
}

/** Query or fragment items with each value not allowlisted masked. */
function maskItems(items: string): string {
  let out = '';
  let start = 0;
  while (start <= items.length) {
    const next = nextSeparator(items, start);
    const item = items.slice(start, next);
    const eq = item.indexOf('=');
    // No value to mask, or an allowlisted name: the item as sent.
    if (eq === -1 || eq === item.length - 1 || parameterKind(item.slice(0, eq)) !== undefined) out += item;
    else out += `${item.slice(0, eq + 1)}${MASK}`;
    if (next === items.length) break;
    const width = items.startsWith('&amp;', next) ? 5 : 1;
    out += items.slice(next, next + width);
    start = next + width;
  }
  return out;
}

/** Where the item from `from` ends: at the next `&` (of `&` or `&amp;`), `;` or `?`, or at the end. */
function nextSeparator(items: string, from: number): number {
  for (let i = from; i < items.length; i++) {
    const c = items.charCodeAt(i);
    if (c === 0x26 /* & */ || c === 0x3b /* ; */ || c === 0x3f /* ? */) return i;
  }
  return items.length;
}

/** `scheme://user:pass@host…` → `scheme://host…`: the authority's part up to its last `@` goes. */
function withoutUserinfo(base: string): string {
  const slashes = base.indexOf('//');
  if (slashes === -1) return base;
  let authorityEnd = base.indexOf('/', slashes + 2);
  if (authorityEnd === -1) authorityEnd = base.length;
  const at = base.lastIndexOf('@', authorityEnd - 1);
  return at > slashes ? base.slice(0, slashes + 2) + base.slice(at + 1) : base;
}

// Canvas sends the same few dozen parameter names over and over: each name's verdict is worked out
// once (decoding a name costs far more than a lookup). Bounded, so that hostile names cannot grow it.
const KINDS = new Map<string, ParameterValue | null>();
const MAX_KINDS = 4096;

/** What an (encoded) query parameter name's value is by the allowlist, or undefined when it is not on it. */
export function parameterKind(rawName: string): ParameterValue | undefined {
  let kind = KINDS.get(rawName);
  if (kind === undefined) {
    let name = decode(rawName.replace(/\+/g, ' '));
    name = (name ?? rawName).toLowerCase();
    if (name.endsWith('[]')) name = name.slice(0, -2);
    kind = QUERY_ALLOWLIST.get(name) ?? null;
    if (KINDS.size >= MAX_KINDS) KINDS.clear();
    KINDS.set(rawName, kind);
  }
  return kind ?? undefined;
}

/** Percent-decoded, repeatedly (`%255F` is `_` encoded twice); undefined when it is not valid percent-encoding. */
function decode(text: string): string | undefined {
  let out = text;
  for (let i = 0; i < 3 && out.indexOf('%') !== -1; i++) {
    try {
      const next = decodeURIComponent(out);
      if (next === out) break;
      out = next;
    } catch {
      return undefined;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pseudonymise: reduce

/** How reduceUrl names the people a URL names: the privacy policy's pseudonyms. */
export interface UrlIds {
  /** The event's Canvas host (metadata.hostname); any `*.instructure.com` is Canvas too. */
  host?: string;
  /** A user id's pseudonym. */
  user(id: string): string;
  /** The pseudonym of a user's SIS id or login, or undefined when the policy removes it. */
  sis(kind: 'sis_user_id' | 'sis_login_id', value: string): string | undefined;
}

/** A Canvas id as a path segment or a parameter value (after decoding): digits, or a global id `2107~565`. */
const ID = /^\d+(?:~\d+)?$/;
/** The forms of a user's id Canvas takes in place of its id (`sis_login_id:jdoe@example.edu`). */
const SIS_FORM = /^(sis_user_id|sis_login_id):(.+)$/s;
/** A format suffix a Canvas route may carry (`sis_imports.json`, `submissions/986036.text`). */
const FORMAT_SUFFIX = /\.(?:json|xml|csv|text|txt|atom|ics|rss|html)$/i;
/** The kinds of query values pseudonymise keeps, by their shape (a value of another shape goes with its parameter). */
const VALUE_SHAPE: Readonly<Record<Exclude<ParameterValue, 'user'>, RegExp>> = {
  id: ID,
  word: /^[A-Za-z0-9_.-]{1,64}$/,
  time: /^[0-9][0-9T:.+\- Z]{0,39}$/,
};
/** Placeholder base for parsing a relative URL; a relative URL that parses to another host was not relative. */
const RELATIVE_BASE = 'https://relative.invalid';
const CANVAS_CLOUD = '.instructure.com';
/** USER_POSITIONS by their last word, so that an id looks at only the runs that could end before it. */
const POSITIONS_BY_LAST = new Map<string, (readonly string[])[]>();
for (const run of USER_POSITIONS) {
  const last = run[run.length - 1]!;
  POSITIONS_BY_LAST.set(last, [...(POSITIONS_BY_LAST.get(last) ?? []), run]);
}

/**
 * A URL as Canvas writes it: `http(s)://` and a lower-case host without userinfo or port, or a path
 * `/…`; then only characters a URL may hold unencoded (no `\`, space, quote, `<`, `>`, `{`, `}`, `|`, `^`,
 * no non-ASCII). Read by hand (most URLs: about a microsecond less than the URL parser); any other form
 * goes to the URL parser, which knows every trick (backslashes, dot segments, userinfo, ports, hosts in
 * any case or encoding).
 */
const PLAIN = /^(?:(https?:\/\/[a-z0-9.-]+)(?=[/?#]|$)|(?=\/(?!\/)))([\w\-.~:/[\]@!$&'()*+,;=%]*)(?:\?([\w\-.~:/?[\]@!$&'()*+,;=%]*))?(?:#[\w\-.~:/?#[\]@!$&'()*+,;=%]*)?$/;
/** Dot segments (`/../`, `/%2e%2e/`) move a path: the URL parser resolves them. */
const DOT_SEGMENT = /\/\.|%2e/i;

interface UrlParts {
  /** `https://host` (`//host` for a scheme-relative URL), `''` for a path. */
  origin: string;
  /** The host name, lower case; `''` for a path. */
  hostname: string;
  /** The path, as written (`/courses/1`). */
  path: string;
  /** The query without its `?`. */
  query: string;
}

/**
 * A URL as pseudonymise keeps it. A Canvas URL (on `ids.host`, on any `*.instructure.com`, or a path
 * `/…`) becomes its route: each path segment (percent-decoded, `;`-parameters removed, a `.json`-like
 * suffix set aside) stays when it is a route word (lower case) or an id; an id in a user position
 * becomes the user's pseudonym; a `sis_user_id:`/`sis_login_id:` form its SIS pseudonym (or the
 * placeholder); anything else the placeholder `-`. Its query keeps allowlisted parameters whose values
 * have their kind's shape, users' pseudonymised; the fragment goes. Any other http(s) URL keeps its
 * origin (`https://example.com/`). Anything else (`mailto:`, `javascript:`, `data:`, `//user@host`, text)
 * is undefined.
 */
export function reduceUrl(text: string, ids: UrlIds): string | undefined {
  const parts = plainParts(text) ?? parsedParts(text);
  if (parts === undefined) return undefined;
  if (parts.origin !== '' && !isCanvasHost(parts.hostname, ids.host)) return `${parts.origin}/`;
  return parts.origin + routeOf(parts.path, ids) + queryOf(parts.query, ids);
}

function plainParts(text: string): UrlParts | undefined {
  const m = PLAIN.exec(text);
  if (m === null) return undefined;
  const path = m[2]!;
  if (DOT_SEGMENT.test(path)) return undefined;
  const origin = m[1] ?? '';
  return { origin, hostname: origin === '' ? '' : origin.slice(origin.indexOf('//') + 2), path: path === '' ? '/' : path, query: m[3] ?? '' };
}

/** By the URL parser: http(s) URLs, paths, and `//host/…` (not `//user@host`); anything else undefined. */
function parsedParts(text: string): UrlParts | undefined {
  const relative = text.charCodeAt(0) === 0x2f && text.charCodeAt(1) !== 0x2f && text.charCodeAt(1) !== 0x5c;
  const schemeless = !relative && text.startsWith('//');
  let url: URL;
  try {
    url = relative ? new URL(text, RELATIVE_BASE) : new URL(schemeless ? `https:${text}` : text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (relative && url.origin !== RELATIVE_BASE) return undefined;
  if (schemeless && (url.username !== '' || url.password !== '')) return undefined;
  const origin = relative ? '' : schemeless ? `//${url.host}` : `${url.protocol}//${url.host}`;
  return { origin, hostname: relative ? '' : url.hostname, path: url.pathname, query: url.search.slice(1) };
}

function isCanvasHost(hostname: string, host: string | undefined): boolean {
  if (hostname.endsWith(CANVAS_CLOUD)) return true;
  if (host === undefined) return false;
  const colon = host.lastIndexOf(':');
  const bare = (colon > host.lastIndexOf(']') ? host.slice(0, colon) : host).toLowerCase();
  return hostname === bare;
}

/** A segment that is a route word or an id as it stands: lower-case letters, digits, `_`, `~` only. */
function isPlainSegment(segment: string): boolean {
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x7e)) return false;
  }
  return true;
}

/** The path as a route: route words and ids, users' ids pseudonymised, everything else the placeholder. */
function routeOf(path: string, ids: UrlIds): string {
  // What each segment was, for USER_POSITIONS: a route word, or ANY_ID for anything else. Canvas takes
  // an id's other forms (`sis_course_id:…`) where an id goes, so a placeholder stands for an id too:
  // `courses/sis_course_id:X/grades/5` names user 5 (pseudonymising a thing's id by mistake costs a
  // join; keeping a user's would leak them).
  const seen: string[] = [];
  let out = '';
  let start = 1;
  while (start <= path.length) {
    let end = path.indexOf('/', start);
    if (end === -1) end = path.length;
    const raw = path.slice(start, end);
    out += '/';
    if (raw !== '') {
      // Most segments are a route word or a plain id: one lookup, no decoding.
      if (isPlainSegment(raw)) out += plainSegment(raw, '', seen, ids);
      else out += otherSegment(raw, seen, ids);
    }
    start = end + 1;
  }
  return out;
}

/** A segment without encoding, case or suffix: a route word, an id, or (`a~b`, `_x`) the placeholder. */
function plainSegment(stem: string, suffix: string, seen: string[], ids: UrlIds): string {
  if (ROUTE_WORDS.has(stem)) {
    seen.push(stem);
    return stem + suffix;
  }
  const id = ID.test(stem);
  const out = id ? (inUserPosition(seen) ? ids.user(stem) : stem) + suffix : PLACEHOLDER;
  seen.push(ANY_ID);
  return out;
}

/** Any other segment: decoded, its `;`-parameters and format suffix set aside, then as plainSegment; a SIS form; or the placeholder. */
function otherSegment(raw: string, seen: string[], ids: UrlIds): string {
  const semicolon = raw.indexOf(';');
  const decoded = decode(semicolon === -1 ? raw : raw.slice(0, semicolon));
  if (decoded === undefined) {
    seen.push(ANY_ID);
    return PLACEHOLDER;
  }
  const suffix = FORMAT_SUFFIX.exec(decoded)?.[0] ?? '';
  const stem = (suffix ? decoded.slice(0, -suffix.length) : decoded).toLowerCase();
  if (ROUTE_WORDS.has(stem) || ID.test(stem)) return plainSegment(stem, suffix.toLowerCase(), seen, ids);
  seen.push(ANY_ID);
  const sis = SIS_FORM.exec(decoded);
  const pseudonym = sis ? ids.sis(sis[1] as 'sis_user_id' | 'sis_login_id', sis[2]!) : undefined;
  return pseudonym === undefined ? PLACEHOLDER : `${sis![1]}:${pseudonym}`;
}

/** Whether the segments so far end with a run of USER_POSITIONS. */
function inUserPosition(seen: readonly string[]): boolean {
  const runs = POSITIONS_BY_LAST.get(seen[seen.length - 1] ?? '');
  if (runs === undefined) return false;
  for (const run of runs) {
    const from = seen.length - run.length;
    if (from < 0) continue;
    let k = 0;
    while (k < run.length && seen[from + k] === run[k]) k++;
    if (k === run.length) return true;
  }
  return false;
}

/** The allowlisted parameters of a query (without its `?`), each value of its kind's shape, users' pseudonymised. */
function queryOf(query: string, ids: UrlIds): string {
  if (query === '') return '';
  let out = '';
  let start = 0;
  while (start < query.length) {
    const end = nextItemEnd(query, start);
    const item = query.slice(start, end);
    start = end + (query.startsWith('&amp;', end) ? 5 : 1);
    const eq = item.indexOf('=');
    if (eq <= 0) continue; // an empty item, or a bare one: none carries an allowlisted value
    const name = item.slice(0, eq);
    const kind = parameterKind(name);
    if (kind === undefined) continue;
    const raw = item.slice(eq + 1);
    const value = raw.indexOf('%') === -1 && raw.indexOf('+') === -1 ? raw : decode(raw.replace(/\+/g, ' '));
    if (value === undefined) continue;
    let kept: string | undefined;
    if (kind !== 'user') kept = VALUE_SHAPE[kind].test(value) ? item : undefined;
    else {
      const user = userValue(value, ids);
      kept = user === undefined ? undefined : `${name}=${encodeURIComponent(user).replace(/%3A/g, ':')}`;
    }
    if (kept !== undefined) out += (out === '' ? '?' : '&') + kept;
  }
  return out;
}

/** Where a query item from `from` ends: at the next `&` (of `&` or `&amp;`) or `;`, or at the end. */
function nextItemEnd(query: string, from: number): number {
  for (let i = from; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c === 0x26 /* & */ || c === 0x3b /* ; */) return i;
  }
  return query.length;
}

/** A user-valued parameter's value as pseudonymise keeps it: an id's pseudonym, a SIS form's, or undefined. */
function userValue(value: string, ids: UrlIds): string | undefined {
  if (ID.test(value)) return ids.user(value);
  const sis = SIS_FORM.exec(value);
  if (sis === null) return undefined;
  const pseudonym = ids.sis(sis[1] as 'sis_user_id' | 'sis_login_id', sis[2]!);
  return pseudonym === undefined ? undefined : `${sis[1]}:${pseudonym}`;
}
