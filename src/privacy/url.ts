// The one URL reducer, at two levels, both by allowlist (src/privacy/canvas-routes.ts): what is not
// known to be harmless does not pass. (drop, the third level, removes a URL field whole.)
// - keep (`maskUrl`): every string of the output, under every policy. The URL as Canvas sent it, but the
//   value of each query or fragment parameter not on the allowlist is masked, and userinfo and
//   `;`-parameters are removed; in bare URLs and in URLs inside text (HTML bodies) alike.
// - pseudonymise (`reduceUrl`): a URL-valued field. A Canvas URL becomes its route (route words and
//   ids, users' ids pseudonymised, everything else a placeholder) with its allowlisted query; any
//   other http(s) URL its origin; anything else nothing.
import { ANY_ID, QUERY_PARAMETERS, ROUTE_WORDS, USER_POSITIONS, type ParameterValue } from './canvas-routes.js';

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
/** Query and fragment items are separated by `&`, by `&amp;` in HTML, and by `;`. */
const ITEM_SEPARATOR = /(&amp;|&|;)/;
// Under keep, a second `?` separates too (maskItems): `?page=1?access_token=…` must not pass as page's value.

/**
 * The text with, in every URL it holds: the value of each query and fragment parameter that is not on
 * the allowlist (`QUERY_PARAMETERS`) replaced by `[FILTERED]`; userinfo (`https://user:pass@host`,
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
    kind = QUERY_PARAMETERS.get(name) ?? null;
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
  if (!relative && !isCanvasHost(url.hostname, ids.host)) return `${origin}/`;
  return origin + routeOf(url.pathname, ids) + queryOf(url.search, ids);
}

function isCanvasHost(hostname: string, host: string | undefined): boolean {
  if (hostname.endsWith(CANVAS_CLOUD)) return true;
  if (host === undefined) return false;
  const colon = host.lastIndexOf(':');
  const bare = (colon > host.lastIndexOf(']') ? host.slice(0, colon) : host).toLowerCase();
  return hostname === bare;
}

/** The path as a route: route words and ids, users' ids pseudonymised, everything else the placeholder. */
function routeOf(pathname: string, ids: UrlIds): string {
  const segments = pathname.split('/');
  // What each segment was, for USER_POSITIONS: a route word, or ANY_ID for anything else. Canvas takes
  // an id's other forms (`sis_course_id:…`) where an id goes, so a placeholder stands for an id too:
  // `courses/sis_course_id:X/grades/5` names user 5 (pseudonymising a thing's id by mistake costs a
  // join; keeping a user's would leak them).
  const seen: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const raw = segments[i]!;
    if (raw === '') continue;
    const semicolon = raw.indexOf(';');
    const decoded = decode(semicolon === -1 ? raw : raw.slice(0, semicolon));
    if (decoded === undefined) {
      segments[i] = PLACEHOLDER;
      seen.push(ANY_ID);
      continue;
    }
    const suffix = FORMAT_SUFFIX.exec(decoded)?.[0] ?? '';
    const stem = suffix ? decoded.slice(0, -suffix.length) : decoded;
    const word = stem.toLowerCase();
    if (ROUTE_WORDS.has(word)) {
      segments[i] = word + suffix.toLowerCase();
      seen.push(word);
    } else if (ID.test(stem)) {
      segments[i] = (inUserPosition(seen) ? ids.user(stem) : stem) + suffix.toLowerCase();
      seen.push(ANY_ID);
    } else {
      const sis = SIS_FORM.exec(decoded);
      const pseudonym = sis ? ids.sis(sis[1] as 'sis_user_id' | 'sis_login_id', sis[2]!) : undefined;
      segments[i] = pseudonym === undefined ? PLACEHOLDER : `${sis![1]}:${pseudonym}`;
      seen.push(ANY_ID);
    }
  }
  return segments.join('/');
}

/** Whether the segments kept so far end with a run of USER_POSITIONS. */
function inUserPosition(seen: readonly string[]): boolean {
  const runs = POSITIONS_BY_LAST.get(seen[seen.length - 1] ?? '');
  if (runs === undefined) return false;
  return runs.some((run) => run.length <= seen.length && run.every((part, k) => seen[seen.length - run.length + k] === part));
}

/** The allowlisted parameters of a query (`?…` as the URL parser gives it), each value of its kind's shape, users' pseudonymised. */
function queryOf(search: string, ids: UrlIds): string {
  if (search.length < 2) return '';
  const kept: string[] = [];
  for (const item of search.slice(1).split(ITEM_SEPARATOR)) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue; // a separator, an empty item, or a bare one: none carries an allowlisted value
    const name = item.slice(0, eq);
    const kind = parameterKind(name);
    if (kind === undefined) continue;
    const value = decode(item.slice(eq + 1).replace(/\+/g, ' '));
    if (value === undefined) continue;
    if (kind !== 'user') {
      if (VALUE_SHAPE[kind].test(value)) kept.push(item);
      continue;
    }
    const user = userValue(value, ids);
    if (user !== undefined) kept.push(`${name}=${encodeURIComponent(user).replace(/%3A/g, ':')}`);
  }
  return kept.length === 0 ? '' : `?${kept.join('&')}`;
}

/** A user-valued parameter's value as pseudonymise keeps it: an id's pseudonym, a SIS form's, or undefined. */
function userValue(value: string, ids: UrlIds): string | undefined {
  if (ID.test(value)) return ids.user(value);
  const sis = SIS_FORM.exec(value);
  if (sis === null) return undefined;
  const pseudonym = ids.sis(sis[1] as 'sis_user_id' | 'sis_login_id', sis[2]!);
  return pseudonym === undefined ? undefined : `${sis[1]}:${pseudonym}`;
}
