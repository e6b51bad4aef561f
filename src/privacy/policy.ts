// The privacy policy: one pass over the raw Canvas event (metadata and body), by the table in
// src/privacy/fields.ts, in the per-event path (src/engine.ts) after the raw event is checked and
// before the mapper runs. What it removes or pseudonymises never reaches a mapper, a format or the
// output, in any format. `keep` never gets here. docs/privacy.md says what each policy does to each kind.
import crypto from 'node:crypto';
import { isPlainObject } from '../json.js';
import type { Metadata, RawEvent } from '../raw.js';
import { bodyFieldsOf, METADATA_FIELDS, type Field } from './fields.js';
import { reduceUrl, type UrlIds } from './url.js';
import { reduceUserAgent, truncateIp } from './values.js';

export const POLICIES = ['keep', 'pseudonymise', 'drop'] as const;
export type Policy = (typeof POLICIES)[number];

export interface PrivacySettings {
  policy: Exclude<Policy, 'keep'>;
  /** The HMAC key, at least 32 bytes (src/privacy/key.ts reads it). */
  key: Buffer;
  /** Written into each event (`privacy_key_id`); default: a fingerprint of the key. */
  keyId?: string;
  /** pseudonymise: truncate (default) or drop client IPs. */
  ip?: 'truncate' | 'drop';
  /** pseudonymise: keep free text. */
  keepText?: boolean;
}

export const MIN_KEY_BYTES = 32;
/** How many pseudonyms are remembered per domain (most events name the same few users several times each). */
const CACHE_SIZE = 50_000;
/** How many reduced URLs are remembered, and the longest URL remembered (a bound on the memory: at most 4096 × 2 kB). */
const URL_CACHE_SIZE = 4_096;
const URL_CACHE_MAX_LENGTH = 2_048;

/** A URL as reduceUrl reduced it, and what that depended on besides its text: the event's anchor (its users' pseudonyms) and host. */
interface ReducedUrl {
  home: string;
  shard: string | undefined;
  host: string | undefined;
  out: string | undefined;
}

/** The default key id: 8 hex digits of an HMAC of a fixed text, so two keys have two ids and the id says nothing of the key. */
export const keyFingerprint = (key: Buffer): string => `k${crypto.createHmac('sha256', key).update('canvas-caliper privacy key id').digest('hex').slice(0, 8)}`;

/**
 * A Canvas id split into its shard (undefined for a local id) and its local id, as decimal digits
 * without leading zeros; undefined when it is not an id. A global id is shard × 10^13 + local id, so
 * its last 13 digits are the local id (strings, not BigInt: this runs for every user id).
 */
export function splitId(id: string): { shard?: string; local: string } | undefined {
  const tilde = id.indexOf('~');
  if (tilde > 0) {
    const shard = id.slice(0, tilde);
    const local = id.slice(tilde + 1);
    return isDigits(shard) && isDigits(local) ? { shard: noZeros(shard), local: noZeros(local) } : undefined;
  }
  if (!isDigits(id)) return undefined;
  if (id.length <= 13) return { local: noZeros(id) };
  const shard = noZeros(id.slice(0, id.length - 13));
  const local = noZeros(id.slice(id.length - 13));
  return shard === '0' ? { local } : { shard, local };
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Decimal digits without leading zeros (`0` stays). */
function noZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
  return i === 0 ? digits : digits.slice(i);
}

/** The shard of a global id, if it is one. */
function shardOf(id: unknown): string | undefined {
  const text = typeof id === 'number' ? String(id) : id;
  return typeof text === 'string' ? splitId(text)?.shard : undefined;
}

/** What a user id is keyed on in one event (anchorOf). */
export interface Anchor {
  home: string;
  shard?: string;
}

/**
 * What user ids of one event are keyed on (docs/privacy.md, "Keying of user ids"): Canvas's global
 * ids change when an instance moves shard, local ids do not and are unique within the root account.
 * `home`: the anchor of a local id and of a global id on the root account's shard — the root
 * account's uuid, else that shard (`shard:<n>`), else `none`. `shard`: the root account's shard, from
 * root_account_id, else from context_account_id (an account lives on its root account's shard).
 */
export function anchorOf(m: Pick<Metadata, 'root_account_uuid' | 'root_account_id' | 'context_account_id'>): Anchor {
  const shard = shardOf(m.root_account_id) ?? shardOf(m.context_account_id);
  const uuid = typeof m.root_account_uuid === 'string' && m.root_account_uuid !== '' ? m.root_account_uuid : undefined;
  return { home: uuid !== undefined ? `account:${uuid}` : shard !== undefined ? `shard:${shard}` : 'none', shard };
}

export class Privacy {
  readonly policy: Exclude<Policy, 'keep'>;
  readonly keyId: string;
  readonly ip: 'truncate' | 'drop';
  readonly keepText: boolean;
  readonly #key: Buffer;
  readonly #drop: boolean;
  /** The event id's secret prefix (eventId). */
  readonly #idPrefix: string;
  /** Pseudonyms by domain and keyed text. */
  readonly #cache = new Map<string, Map<string, string>>();
  /** The event being walked: its anchors (set per event; the pass is synchronous), and the user pseudonyms of that anchor. */
  #anchor: Anchor = { home: 'none' };
  #users = new Map<string, string>();
  /** Whether the event being walked is the caller's to give away (event's `owned`): its objects are changed in place. */
  #inPlace = false;
  /** Each event's anchor and the user pseudonyms under it (by id as written), by root_account_uuid, root_account_id and context_account_id. */
  readonly #anchors = new Map<string, Map<string, Map<string, { anchor: Anchor; users: Map<string, string> }>>>();
  /** The URL reducer's view of the people in the event being walked. */
  readonly #urlIds: UrlIds & { host?: string } = {
    user: (id) => this.user(id),
    // An SIS user id has a pseudonym (its own domain); a login (an e-mail, often) is removed.
    sis: (kind, value) => (kind === 'sis_user_id' ? this.pseudonym('person_sis', value) : undefined),
  };
  /** URLs reduced (url), by their text. */
  readonly #urls = new Map<string, ReducedUrl>();

  constructor(settings: PrivacySettings) {
    if (settings.key.length < MIN_KEY_BYTES) throw new Error(`the privacy key has ${settings.key.length} bytes; at least ${MIN_KEY_BYTES} are needed`);
    this.policy = settings.policy;
    this.#key = Buffer.from(settings.key);
    this.keyId = settings.keyId ?? keyFingerprint(this.#key);
    this.ip = settings.ip ?? 'truncate';
    this.keepText = settings.keepText ?? false;
    this.#drop = this.policy === 'drop';
    this.#idPrefix = crypto.createHmac('sha256', this.#key).update('canvas-caliper event id').digest('hex');
  }

  /**
   * The pseudonym of a text in a domain (`user`, `person_sis`, …): `ps` + 32 hex digits of
   * HMAC-SHA-256(key, domain + ':' + text). Stable for one key, different for another; a valid URN
   * segment and IRI character sequence, and what mappers/values.ts's idString takes as an id.
   */
  pseudonym(domain: string, text: string): string {
    let cache = this.#cache.get(domain);
    if (cache === undefined) this.#cache.set(domain, (cache = new Map()));
    let out = cache.get(text);
    if (out === undefined) {
      out = `ps${crypto.createHmac('sha256', this.#key).update(`${domain}:${text}`).digest('hex').slice(0, 32)}`;
      if (cache.size >= CACHE_SIZE) cache.clear();
      cache.set(text, out);
    }
    return out;
  }

  /**
   * A user id's pseudonym in an event with these anchors (anchorOf): the pseudonym of `<anchor>:<local
   * id>`, where the anchor is the event's `home` for a local id and for a global id on the root
   * account's shard, and `shard:<n>` for a global id of another shard. Global, `shard~id` and local
   * forms of one user give one pseudonym, and so does the same user after a shard migration (when the
   * event names the root account's uuid); users of two shards never share one.
   */
  userPseudonym(id: string, anchor: Anchor): string {
    const split = splitId(id);
    // Not an id Canvas writes (the raw schemas refuse these where a mapper reads them): its text, in its own anchor.
    if (split === undefined) return this.pseudonym('user', `text:${id}`);
    const at = split.shard === undefined || (split.shard === anchor.shard && anchor.home.startsWith('account:')) ? anchor.home : `shard:${split.shard}`;
    return this.pseudonym('user', `${at}:${split.local}`);
  }

  /** A user id's pseudonym in the event being walked: remembered per anchor (most events name the same few users, several times each). */
  private user(id: string): string {
    // Canvas's user 0 is no one (a visitor not logged in; the mappers' anonymous Person): it stays as it is.
    if (id.charCodeAt(0) === 48 /* 0 */) {
      const split = splitId(id);
      if (split !== undefined && split.shard === undefined && split.local === '0') return id;
    }
    let out = this.#users.get(id);
    if (out === undefined) {
      out = this.userPseudonym(id, this.#anchor);
      if (this.#users.size >= CACHE_SIZE) this.#users.clear();
      this.#users.set(id, out);
    }
    return out;
  }

  /**
   * The raw event as the policy makes it: every field by the table, an unknown one removed. A new
   * object, the input left as it is; or, when the caller gives the event away (`owned`: a value
   * JSON.parse just made, which nothing else holds), the input itself, changed in place — its objects
   * keep the shapes JSON.parse gave them, which a copy loses (every reader after the pass, from the
   * mapper to the event id, is then as fast as under keep).
   */
  event(raw: RawEvent, owned = false): RawEvent {
    const m = raw.metadata;
    // The anchor and its remembered user pseudonyms, by the three fields anchorOf reads (a few root
    // accounts make the events): three lookups of the fields' own strings, no text made per event.
    const uuid = typeof m.root_account_uuid === 'string' ? m.root_account_uuid : '';
    const rootId = m.root_account_id == null ? '' : String(m.root_account_id);
    const contextAccountId = m.context_account_id == null ? '' : String(m.context_account_id);
    let byRoot = this.#anchors.get(uuid);
    if (byRoot === undefined) {
      if (this.#anchors.size >= 1_000) this.#anchors.clear();
      this.#anchors.set(uuid, (byRoot = new Map()));
    }
    let byContext = byRoot.get(rootId);
    if (byContext === undefined) {
      if (byRoot.size >= 1_000) byRoot.clear();
      byRoot.set(rootId, (byContext = new Map()));
    }
    let known = byContext.get(contextAccountId);
    if (known === undefined) {
      if (byContext.size >= 1_000) byContext.clear();
      byContext.set(contextAccountId, (known = { anchor: anchorOf(m), users: new Map() }));
    }
    this.#anchor = known.anchor;
    this.#users = known.users;
    this.#urlIds.host = typeof m.hostname === 'string' ? m.hostname : undefined;
    this.#inPlace = owned;
    const metadata = this.fields(m as Record<string, unknown>, METADATA_FIELDS, '') as Metadata;
    const body = this.fields(raw.body, bodyFieldsOf(m.event_name), '') ?? {};
    if (!owned) return { metadata, body };
    // Anything beside metadata and body is no field of Canvas's: removed, as the copy leaves it out.
    for (const key in raw) if (key !== 'metadata' && key !== 'body') Object.defineProperty(raw, key, { value: undefined, enumerable: true, writable: true, configurable: true });
    return raw;
  }

  /**
   * The hash behind the event id under this policy (src/engine.ts lays it out as a v4 UUID): SHA-256
   * of a secret prefix (64 hex digits of HMAC-SHA-256(key, a fixed text), made once) followed by the
   * event as the policy made it, in the key-order-free encoding. Deterministic (redeliveries
   * collapse), other than keep's and another key's, and unlinkable to the raw event or a keep stream
   * without the key. A keyed hash at the cost of one plain hash (an HMAC costs two hashes and an
   * object per event): the published id holds 122 of the digest's 256 bits, so the digest cannot be
   * extended, and the encodings (JSON texts) are never a prefix of one another.
   */
  eventId(encoded: string, sha256Hex: (text: string) => string): string {
    return sha256Hex(this.#idPrefix + encoded);
  }

  /**
   * The fields of an object by the table (`path`: its dotted name); undefined when none is left. The
   * object itself (an owned event) or a copy of it (a spread: V8 keeps it in fast mode), with each
   * value the policy changes set, and each it removes set to undefined, which every reader takes as
   * absent (the mappers, the id's encoding, the output): building the object key by key from `{}`
   * ends in V8's slow dictionary mode for about half of the events' metadata, and deleting does too.
   */
  private fields(obj: Record<string, unknown>, table: ReadonlyMap<string, Field>, path: string): Record<string, unknown> | undefined {
    const out = this.#inPlace ? obj : { ...obj };
    let kept = 0;
    for (const key in obj) {
      const v = obj[key];
      if (v === null || v === undefined) continue;
      const name = path === '' ? key : `${path}.${key}`;
      const f = table.get(name);
      // Most fields are values not about a person: kept as they are, without a call.
      const r = f === undefined ? undefined : f.kind === 'kept' && typeof v !== 'object' ? v : this.field(f, v, obj, table, name);
      if (r !== v) {
        if (key === '__proto__') Object.defineProperty(out, key, { value: r, enumerable: true, writable: true, configurable: true });
        else out[key] = r;
      }
      if (r !== undefined) kept++;
    }
    return kept === 0 && path !== '' ? undefined : out;
  }

  /** What the policy makes of one value (not null) of a field; undefined removes it. */
  private field(f: Field, v: unknown, siblings: Record<string, unknown>, table: ReadonlyMap<string, Field>, name: string): unknown {
    switch (f.kind) {
      case 'kept':
        return typeof v !== 'object' ? v : this.kept(v, table, name);
      case 'typed-name': {
        const type = siblings[f.on!];
        const named = typeof type === 'string' ? f.cases![type.toLowerCase()] : undefined;
        return named ? this.field(named, v, siblings, table, name) : this.kept(v, table, name);
      }
      case 'kept-deep':
        return v;
      case 'user-id':
        return this.ids(v, 'user');
      case 'typed-id':
        return typeof siblings[f.on!] === 'string' && (siblings[f.on!] as string).toLowerCase() === 'user' ? this.ids(v, 'user') : this.kept(v, table, name);
      case 'identifier':
        return this.#drop ? undefined : this.ids(v, f.domain!);
      case 'direct':
      case 'log-key':
      case 'opaque':
        return undefined;
      case 'quasi':
        return this.#drop ? undefined : this.kept(v, table, name);
      case 'text':
        return !this.#drop && this.keepText && typeof v === 'string' ? v : undefined;
      case 'network':
        return this.#drop || this.ip === 'drop' ? undefined : truncateIp(v);
      case 'user-agent':
        return this.#drop ? undefined : reduceUserAgent(v);
      case 'url':
        return this.#drop || typeof v !== 'string' ? undefined : this.url(v);
    }
  }

  /**
   * reduceUrl of a URL field's text in the event being walked, remembered: the same URLs come again
   * and again (request_url, referrer: the pages a campus visits). Its answer depends on the text, the
   * event's host and (for a user id in the URL) the event's anchor, so a remembered answer is used only
   * under the same three. Bounded in number and length.
   */
  private url(text: string): string | undefined {
    const anchor = this.#anchor;
    const host = this.#urlIds.host;
    const hit = this.#urls.get(text);
    if (hit !== undefined && hit.home === anchor.home && hit.shard === anchor.shard && hit.host === host) return hit.out;
    const out = reduceUrl(text, this.#urlIds);
    if (text.length <= URL_CACHE_MAX_LENGTH) {
      if (this.#urls.size >= URL_CACHE_SIZE) this.#urls.clear();
      this.#urls.set(text, { home: anchor.home, shard: anchor.shard, host, out });
    }
    return out;
  }

  /** A value not about a person: a scalar or a list of scalars as it is; an object (or a list's object) field by field at `name`. */
  private kept(v: unknown, table: ReadonlyMap<string, Field>, name: string): unknown {
    if (typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const item of v) {
        const r = isPlainObject(item) ? this.fields(item, table, name) : Array.isArray(item) ? undefined : item;
        if (r !== undefined && r !== null) out.push(r);
      }
      return out;
    }
    return isPlainObject(v) ? this.fields(v, table, name) : undefined;
  }

  /** The pseudonym of an id (a string or a number; each item of a list) in a domain; anything else removed. */
  private ids(v: unknown, domain: string): unknown {
    if (Array.isArray(v)) return v.map((item) => this.ids(item, domain)).filter((item) => item !== undefined);
    if (typeof v !== 'string' && typeof v !== 'number') return undefined;
    const text = String(v);
    return domain === 'user' ? this.user(text) : this.pseudonym(domain, text);
  }
}
