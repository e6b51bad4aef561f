// The privacy policy: one pass over a mapped Caliper event, in whichever format, before it is validated
// (src/engine.ts). `keep` never gets here. The fields and what each is come from src/privacy/fields.ts;
// docs/privacy.md says what each policy does to each kind.
import crypto from 'node:crypto';
import type { CaliperEvent } from '../caliper/model.js';
import { isPlainObject } from '../json.js';
import { EXT } from '../../mappers/builders.js';
import { URN_PREFIX } from '../../mappers/ids.js';
import type { PolicyWalk } from '../caliper/finish.js';
import { CALIPER_PROPERTIES, fieldsOf, type Field } from './fields.js';
import { reduceUrl, reduceUserAgent, truncateIp } from './values.js';

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
/** A Canvas global id's shard: global id = shard × 10^13 + local id. */
const SHARD_FACTOR = 10_000_000_000_000n;
const USER_URN = `${URN_PREFIX}user:`;
/** A user id in one of our URNs: `urn:instructure:canvas:user:<id>`, and inside one (`…:course:2:user:<id>:score`, a membership's `…:user:<id>`). */
const USER_ID_IN_URN = /(urn:instructure:canvas:(?:[A-Za-z0-9_.~/-]+:)*?user:)(\d+(?:~\d+)?)(?![\w~])/g;
const SESSION_URN = `${URN_PREFIX}session:`;
const isSessionUrn = (id: unknown): id is string => typeof id === 'string' && id.startsWith(SESSION_URN);
const USER_ID = /^\d+(?:~\d+)?$/;
/** How many pseudonyms are remembered (most events name the same few users several times each). */
const CACHE_SIZE = 50_000;

/** The default key id: 8 hex digits of an HMAC of a fixed text, so two keys have two ids and the id says nothing of the key. */
export const keyFingerprint = (key: Buffer): string => `k${crypto.createHmac('sha256', key).update('canvas-caliper privacy key id').digest('hex').slice(0, 8)}`;

/**
 * A Canvas id as one string whichever way Canvas wrote it: a global id `2107~565` becomes its 17-digit
 * form `21070000000000565` (shard × 10^13 + local id), which is how metadata carries ids; a local id
 * with a known shard (`shard`, the root account's: bodies and URL paths often hold local ids) becomes
 * its global id too.
 */
export function normaliseId(id: string, shard?: bigint): string {
  const tilde = id.indexOf('~');
  if (tilde > 0 && /^\d+~\d+$/.test(id)) return String(BigInt(id.slice(0, tilde)) * SHARD_FACTOR + BigInt(id.slice(tilde + 1)));
  // A local id has at most 13 digits (below 10^13); a global one at least 14.
  if (shard !== undefined && id.length < 14 && /^\d+$/.test(id)) return String(shard * SHARD_FACTOR + BigInt(id));
  return id;
}

/** The shard of a global id (the root account's), if it is one. */
export function shardOf(id: unknown): bigint | undefined {
  const text = typeof id === 'number' ? String(id) : id;
  if (typeof text !== 'string' || !/^\d{14,}$/.test(normaliseId(text))) return undefined;
  return BigInt(normaliseId(text)) / SHARD_FACTOR;
}

export class Privacy {
  readonly policy: Exclude<Policy, 'keep'>;
  readonly keyId: string;
  readonly ip: 'truncate' | 'drop';
  readonly keepText: boolean;
  readonly #key: Buffer;
  /** Pseudonyms by domain and value, as given (a few users, sessions and SIS ids make most events). */
  readonly #cache = new Map<string, Map<string, string>>();
  /**
   * URNs as the policy writes them, by the URN as mapped (pure functions of the text, for one key):
   * sessions' (`#urns`), and ours that name a user (`#userUrns`: those whose ids needed no shard).
   * Remembered so that each event gets the same string, without a regex or a join.
   */
  readonly #urns = new Map<string, string>();
  readonly #userUrns = new Map<string, string>();
  /** The walk, made once: apply is synchronous, so one event's walk is over before the next begins. */
  readonly #pass: Pass;

  constructor(settings: PrivacySettings) {
    if (settings.key.length < MIN_KEY_BYTES) throw new Error(`the privacy key has ${settings.key.length} bytes; at least ${MIN_KEY_BYTES} are needed`);
    this.policy = settings.policy;
    this.#key = Buffer.from(settings.key);
    this.keyId = settings.keyId ?? keyFingerprint(this.#key);
    this.ip = settings.ip ?? 'truncate';
    this.keepText = settings.keepText ?? false;
    this.#pass = new Pass(this);
  }

  /**
   * The pseudonym of a value in a domain (`user`, `sis`, …): `ps` + 32 hex digits of
   * HMAC-SHA-256(key, domain + ':' + value), user ids normalised first. Stable for one key, different
   * for another; a valid URN segment and IRI character sequence.
   */
  pseudonym(domain: string, value: string): string {
    let cache = this.#cache.get(domain);
    if (cache === undefined) this.#cache.set(domain, (cache = new Map()));
    let out = cache.get(value);
    if (out === undefined) {
      const input = `${domain}:${domain === 'user' ? normaliseId(value) : value}`;
      out = `ps${crypto.createHmac('sha256', this.#key).update(input).digest('hex').slice(0, 32)}`;
      if (cache.size >= CACHE_SIZE) cache.clear();
      cache.set(value, out);
    }
    return out;
  }

  /** A URN naming a user as `ids` made it before, if remembered. */
  knownUserUrn(text: string): string | undefined {
    return this.#userUrns.get(text);
  }

  rememberUserUrn(text: string, out: string): void {
    if (this.#userUrns.size >= CACHE_SIZE) this.#userUrns.clear();
    this.#userUrns.set(text, out);
  }

  /** The remembered result of `make(text)` for a session's URN (`#urns`). */
  urn(text: string, make: (text: string) => string): string {
    let out = this.#urns.get(text);
    if (out === undefined) {
      out = make(text);
      if (this.#urns.size >= CACHE_SIZE) this.#urns.clear();
      this.#urns.set(text, out);
    }
    return out;
  }

  /**
   * The policy as src/caliper/finish.ts applies it inside its own walk (the instructure format's fast
   * path): the same per-value rules as `apply`, for one event, until the next `apply` or `walk`.
   */
  walk(eventName: string | undefined, rootAccountId?: unknown): PolicyWalk {
    return this.#pass.begin(eventName, rootAccountId);
  }

  /** A user's URN with its Canvas id replaced by the pseudonym. */
  userUrn(id: string): string {
    return `${USER_URN}${this.pseudonym('user', id)}`;
  }

  /**
   * The event with the policy applied: a new event (the input is not changed; subtrees the policy
   * leaves as they are are shared). `eventName` picks the table's per-type rules; `rootAccountId`
   * gives the shard of local user ids in URL paths.
   */
  apply<E extends CaliperEvent>(event: E, eventName: string | undefined, rootAccountId?: unknown): E {
    const input = event as unknown as Record<string, unknown>;
    const done = this.#pass.event(input, eventName, rootAccountId);
    // The policy and key id go into the event's own extensions. The walk's own copies are written to as
    // they are; what it shared with the input is copied first (by Object.assign, as before: a
    // `__proto__` key is not copied as data, so an object holding one is copied too).
    const out = done === input ? Object.assign({}, input) : done;
    const walked = isPlainObject(out.extensions) ? out.extensions : undefined;
    const extensions: Record<string, unknown> = ownCopy(walked, input.extensions) ?? Object.assign({}, walked);
    const walkedCanvas = isPlainObject(extensions[EXT]) ? extensions[EXT] : undefined;
    const canvas: Record<string, unknown> = ownCopy(walkedCanvas, isPlainObject(input.extensions) ? input.extensions[EXT] : undefined) ?? Object.assign({}, walkedCanvas);
    canvas.privacy = this.policy;
    canvas.privacy_key_id = this.keyId;
    extensions[EXT] = canvas;
    out.extensions = extensions;
    return out as unknown as E;
  }
}

/** `walked` when it is the walk's own copy of `original` (not shared with the input) and holds no `__proto__` key; else undefined. */
function ownCopy(walked: Record<string, unknown> | undefined, original: unknown): Record<string, unknown> | undefined {
  return walked !== undefined && walked !== original && !Object.hasOwn(walked, '__proto__') ? walked : undefined;
}

/** The Caliper properties of CALIPER_PROPERTIES an entity can have (`value`: a Comment's). */
const ENTITY_PROPERTIES = new Set(['name', 'body', 'description', 'value']);

/** Sets a key that may be `__proto__` as data. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** What an object of the walk is, so that one copy-on-write loop (Pass.rebuild) serves them all. */
const enum At {
  Event,
  Value,
  Entity,
  Extensions,
  Fields,
}

/** The walk of one event at a time, applying the table to every field it meets. */
class Pass implements PolicyWalk {
  readonly drop: boolean;
  readonly policy: string;
  readonly keyId: string;
  /** The event type's fields (fieldsOf), its root account id and that id's shard: set per event. */
  private fields: ReadonlyMap<string, Field | 'kept'> = fieldsOf(undefined);
  private rootAccountId: unknown;
  #shard: bigint | undefined | null = null;
  /** reduceUrl's callbacks, made once rather than per URL. */
  private readonly userId = (id: string): string => this.user(id);
  private readonly feedToken = (t: string): string => this.p.pseudonym('feed', t);
  /** Set when a user id was read in the event's shard (so what it became is not the same in every event). */
  private shardUsed = false;
  /** A session's URN pseudonymised (Privacy.urn remembers them). */
  private readonly sessionUrn = (text: string): string => `${SESSION_URN}${this.p.pseudonym(CALIPER_PROPERTIES.session!.domain!, text.slice(SESSION_URN.length))}`;
  constructor(private readonly p: Privacy) {
    this.drop = p.policy === 'drop';
    this.policy = p.policy;
    this.keyId = p.keyId;
  }

  /** The shard of local user ids in URL paths (the root account's), worked out when a URL first needs it. */
  private get shard(): bigint | undefined {
    if (this.#shard === null) this.#shard = shardOf(this.rootAccountId);
    return this.#shard;
  }

  /** `eventName` picks the table's per-type rules; `rootAccountId` gives the shard of local user ids. */
  begin(eventName: string | undefined, rootAccountId: unknown): this {
    this.fields = fieldsOf(eventName);
    this.rootAccountId = rootAccountId;
    this.#shard = null;
    return this;
  }

  event(e: Record<string, unknown>, eventName: string | undefined, rootAccountId: unknown): Record<string, unknown> {
    return this.begin(eventName, rootAccountId).rebuild(e, At.Event, false, '');
  }

  /** An event property (not null): its extensions by the table, the referrer as a URL, the session, any other as a Caliper value. */
  eventProperty(key: string, v: unknown): unknown {
    if (key === 'extensions' && isPlainObject(v)) return this.rebuild(v, At.Extensions, false, '');
    if (key === 'referrer') return this.personal(CALIPER_PROPERTIES.referrer!, v, false);
    if (key === 'session') return this.session(v);
    return this.value(v);
  }

  /**
   * `obj` with each value replaced as `at` says (undefined removes it): the same object when nothing
   * changed, else a copy made at the first change, so that subtrees the policy leaves alone are
   * shared, never copied.
   */
  private rebuild(obj: Record<string, unknown>, at: At, person: boolean, path: string): Record<string, unknown> {
    let out: Record<string, unknown> | undefined;
    for (const key in obj) {
      const v = obj[key];
      if (v === null || v === undefined) continue;
      let r: unknown;
      switch (at) {
        case At.Value:
          r = typeof v === 'string' ? this.ids(v) : this.value(v);
          break;
        case At.Entity:
          r = this.entityProperty(obj, key, v, person);
          break;
        case At.Fields:
          r = this.field(key, v, person, path);
          break;
        case At.Extensions:
          r = isPlainObject(v) ? this.rebuild(v, At.Fields, person, '') : undefined;
          break;
        case At.Event:
          r = this.eventProperty(key, v);
          break;
      }
      if (r === v) continue;
      // The copy keeps the object's shape (a spread defines `__proto__` as data too); a removed value
      // is set to undefined, which the envelope's finish prunes like every other.
      out ??= { ...obj };
      if (key === '__proto__') define(out, key, r);
      else out[key] = r;
    }
    return out ?? obj;
  }

  /** `items` with each walked as a value (or as extension fields at `path`): the same array when nothing changed. */
  private rebuildArray(items: unknown[], fieldsAt?: { person: boolean; path: string }): unknown[] {
    let out: unknown[] | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const r = fieldsAt ? this.rebuild(item as Record<string, unknown>, At.Fields, fieldsAt.person, fieldsAt.path) : this.value(item);
      if (out === undefined) {
        if (r === item) continue;
        out = items.slice(0, i);
      }
      out.push(r);
    }
    return out ?? items;
  }

  /** Any Caliper value: user ids in our URNs pseudonymised, entities walked. */
  value(v: unknown): unknown {
    if (typeof v === 'string') return this.ids(v);
    if (Array.isArray(v)) return this.rebuildArray(v);
    if (!isPlainObject(v)) return v;
    const person = this.entityPerson(v);
    return person === undefined ? this.rebuild(v, At.Value, false, '') : this.rebuild(v, At.Entity, person, '');
  }

  /** Whether an object is walked as an entity (it has a string type and id), and then whether it is about a person; undefined for another object. */
  entityPerson(v: Record<string, unknown>): boolean | undefined {
    const type = v.type;
    const id = v.id;
    return typeof type === 'string' && typeof id === 'string' ? type === 'Person' || id.startsWith(USER_URN) : undefined;
  }

  /** Every user id in our URNs in a string (USER_ID_IN_URN) replaced by its pseudonym. */
  ids(text: string): string {
    // Only our URNs that name a user (`…:user:…`, a user's own URN too) change.
    if (text.charCodeAt(0) !== 117 /* u */ || !text.startsWith(URN_PREFIX) || !text.includes(':user:')) return text;
    const known = this.p.knownUserUrn(text);
    if (known !== undefined) return known;
    this.shardUsed = false;
    const out = this.userIds(text);
    // Remembered unless an id was read in this event's shard.
    if (!this.shardUsed) this.p.rememberUserUrn(text, out);
    return out;
  }

  private userIds(text: string): string {
    // Most often the whole string is a user's URN (an actor, a member, an assignee).
    if (text.startsWith(USER_URN)) {
      const id = text.slice(USER_URN.length);
      if (USER_ID.test(id)) return `${USER_URN}${this.user(id)}`;
    }
    return text.replace(USER_ID_IN_URN, (_whole, prefix: string, id: string) => `${prefix}${this.user(id)}`);
  }

  /** An entity's property (not null): its extensions by the table, a Membership's id, a person's data by CALIPER_PROPERTIES, any other as a Caliper value. */
  entityProperty(e: Record<string, unknown>, key: string, v: unknown, person: boolean): unknown {
    if (key === 'extensions' && isPlainObject(v)) return this.rebuild(v, At.Extensions, person, '');
    return this.isEntityValue(e, key) ? this.value(v) : this.entityRule(e, key, v, person);
  }

  /** Whether an entity's property (other than its extensions) is walked as any Caliper value (not a Membership's id, not a person's data). */
  isEntityValue(e: Record<string, unknown>, key: string): boolean {
    if (key === 'id') return e.type !== 'Membership' && !(e.type === 'Session' && isSessionUrn(e.id));
    return !(ENTITY_PROPERTIES.has(key) && (key !== 'value' || e.type === 'Comment'));
  }

  entityRule(e: Record<string, unknown>, key: string, v: unknown, person: boolean): unknown {
    if (key === 'id' && e.type === 'Membership') return this.membershipId(e);
    // A Session's id holds Canvas's session id: its pseudonym (drop removes the event's session before it gets here).
    if (key === 'id' && e.type === 'Session') return this.p.urn(v as string, this.sessionUrn);
    return this.personal(CALIPER_PROPERTIES[key]!, v, person);
  }

  /**
   * The event's session (an entity or an IRI): Canvas's, whose id holds Canvas's session id (its
   * pseudonym; drop removes it), or one a platform attaches (caliper-1.2's `urn:tag:auto-attach`), kept.
   */
  private session(v: unknown): unknown {
    const id = typeof v === 'string' ? v : isPlainObject(v) ? v.id : undefined;
    if (!isSessionUrn(id)) return this.value(v);
    if (this.drop) return undefined;
    const pseudonymised = this.p.urn(id, this.sessionUrn);
    if (typeof v === 'string') return pseudonymised;
    // A Session entity's id is pseudonymised by the walk (entityRule); an object the walk does not take as an entity (no string type), here.
    const walked = this.value(v) as Record<string, unknown>;
    return walked.id === pseudonymised ? walked : { ...walked, id: pseudonymised };
  }

  /** A membership's id ends with its member's user id (`…:course:565:Learner:<user id>`): that suffix pseudonymised. */
  private membershipId(e: Record<string, unknown>): string {
    const id = e.id as string;
    const member = isPlainObject(e.member) && typeof e.member.id === 'string' ? e.member.id : '';
    const userId = member.startsWith(USER_URN) ? member.slice(USER_URN.length) : undefined;
    if (userId !== undefined && id.endsWith(`:${userId}`)) return `${id.slice(0, id.length - userId.length)}${this.user(userId)}`;
    return this.ids(id);
  }

  /** An extension field by the table; a field the table does not know is dropped (the table lists every field we emit). */
  private field(key: string, v: unknown, person: boolean, path: string): unknown {
    const name = path ? `${path}.${key}` : key;
    const field = this.fieldAt(name);
    if (field === undefined && isPlainObject(v)) return this.rebuild(v, At.Fields, person, name);
    return this.fieldValue(field, name, v, person);
  }

  /** The table's entry for an extension field (a dotted path when nested): this event type's own, else every type's. */
  fieldAt(name: string): Field | 'kept' | undefined {
    return this.fields.get(name);
  }

  /** A field's value (not null) by its entry; for a field the table does not know, a plain object is walked as fields at `name` (by the caller), an array of them here, anything else removed. */
  fieldValue(field: Field | 'kept' | undefined, name: string, v: unknown, person: boolean): unknown {
    if (field === 'kept') return this.value(v);
    if (field) return this.personal(field, v, person);
    if (Array.isArray(v) && v.every(isPlainObject)) return this.rebuildArray(v, { person, path: name });
    return undefined;
  }

  /** What the policy makes of a personal value of this kind; undefined removes it. */
  private personal(field: Field, v: unknown, person: boolean): unknown {
    switch (field.kind) {
      case 'user-id':
        return this.pseudonyms('user', v);
      case 'entity-id':
        return person ? this.pseudonyms('user', v) : this.value(v);
      case 'entity-name':
        return person ? undefined : this.value(v);
      case 'identifier':
        return this.drop ? undefined : this.pseudonyms(field.domain!, v);
      case 'direct':
      case 'log-key':
        return undefined;
      case 'quasi':
        return this.drop ? undefined : this.value(v);
      case 'text':
        return !this.drop && this.p.keepText ? this.value(v) : undefined;
      case 'network':
        return this.drop || this.p.ip === 'drop' ? undefined : truncateIp(v);
      case 'user-agent':
        return this.drop ? undefined : reduceUserAgent(v);
      case 'url':
        return this.drop ? undefined : reduceUrl(v, this.userId, this.feedToken);
      case 'caliper':
        return this.value(v);
    }
  }

  /** The pseudonym of an id (a string or number; each item of an array); another value by its JSON text. */
  private pseudonyms(domain: string, v: unknown): unknown {
    if (Array.isArray(v)) return v.map((item) => this.pseudonyms(domain, item));
    const text = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v);
    return domain === 'user' ? this.user(text) : this.p.pseudonym(domain, text);
  }

  /**
   * A user id's pseudonym. Canvas writes the same user as a global id in metadata (`21070000000023482`)
   * and often as a local one in the body and in URLs (`23482`): a local id is read in the root
   * account's shard, so both get one pseudonym.
   */
  private user(id: string): string {
    // A global id (14 digits or more, most of them) needs no shard.
    if (id.length >= 14 && id.indexOf('~') < 0) return this.p.pseudonym('user', id);
    this.shardUsed = true;
    return this.p.pseudonym('user', normaliseId(id, this.shard));
  }
}
