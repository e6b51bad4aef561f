// The IRIs an event is published with. Mappers name every Canvas entity by its canonical id,
// `urn:instructure:canvas:<kind>:<id>` (mappers/ids.ts): Instructure's form, and ours inside. A platform
// may want other IRIs: its own ids for persons (PERSON_ID_MAP) and absolute https IRIs for the rest
// (CALIPER_IRI=https). This is the one place that turns a canonical id into the published IRI; the
// engine applies it once per event, after the format, in one walk over the event's IRI-valued
// properties. With CALIPER_IRI=urn and no map it is not called at all: today's output, at no cost.
import crypto from 'node:crypto';
import type { CaliperEvent, Entity } from './caliper/model.js';
import { PROPERTY_KINDS } from './caliper/model.js';
import { holdsEntities12 } from './caliper/model12.js';
import type { Metadata } from './raw.js';
import { table } from './table.js';
import { appUrl, DEFAULT_CANVAS_HOST, globalId, shardOf, URN_PREFIX } from '../mappers/ids.js';
import { canvasExtensionsOf, EVENT_ENTITY_PROPERTIES, setData } from './formats/entities.js';
import type { UnmappedPolicy } from './person-map.js';

export const IRI_STYLES = ['urn', 'https'] as const;
export type IriStyle = (typeof IRI_STYLES)[number];

/** Who a Canvas user is on the platform (src/person-map.ts's PersonMap). */
export interface PersonLookup {
  lookup(userId: string, rootShard?: bigint): string | undefined;
}

export interface IriOptions {
  /** urn (default): canonical ids; https: Canvas URLs where Canvas has a route, else `urn:uuid:`. */
  style?: IriStyle;
  /** CALIPER_IRI_HOST: the Canvas host of https IRIs; default the event's metadata.hostname. */
  host?: string;
  /** PERSON_ID_MAP: a mapped person is `urn:uuid:<platform id>`. */
  persons?: PersonLookup;
  /** PERSON_ID_UNMAPPED: what becomes of an event with a person the map does not hold (the engine applies it). */
  unmapped?: UnmappedPolicy;
}

/** Whether these options change any IRI (if not, the walk is skipped). */
export const changesIris = (options: IriOptions | undefined): options is IriOptions => !!options && (options.style === 'https' || !!options.persons);

/**
 * Canvas's own routes for entities it serves at a path of their id alone (one table). A kind not
 * here, or an id that is not a plain global id, has no route we can name from the id: it becomes a
 * name-based `urn:uuid:` (v5) of its canonical id, the same for every event that names it. Course
 * content (assignments, quizzes, pages, topics, modules, submissions) is routed under its course in
 * Canvas, and many events that name it do not say which course: a route for it would give one
 * entity two IRIs, so it takes the `urn:uuid:` form too (docs/timeback.md).
 */
const CANVAS_ROUTES: Readonly<Record<string, string>> = table({
  user: 'users',
  course: 'courses',
  account: 'accounts',
  group: 'groups',
  attachment: 'files',
  calendar_event: 'calendar_events',
});

/** RFC 4122's URL namespace: the v5 UUIDs below are SHA-1 names of our canonical ids in it. */
const URL_NAMESPACE = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');

/** `urn:uuid:` + the name-based (v5) UUID of `name`, lower case. */
export function nameUuid(name: string): string {
  const hash = crypto.createHash('sha1').update(URL_NAMESPACE).update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** What the IRIs of one event are made from. */
export interface IriContext {
  style: IriStyle;
  host: string;
  /** The shard of the event's root account: local ids are on it. */
  shard?: bigint;
  persons?: PersonLookup;
  /** The application's canonical IRI (the edApp and sensor unless CALIPER_EDAPP_ID), `http://<host>/`. */
  appIri: string;
  /** `http://<the event's Canvas host>/`: a page Canvas serves over https as well (it redirects http there). */
  canvasHttp?: string;
}

export function iriContext(metadata: Metadata, options: IriOptions): IriContext {
  const hostname = typeof metadata.hostname === 'string' && metadata.hostname ? metadata.hostname : undefined;
  const root = metadata.root_account_id;
  return {
    style: options.style ?? 'urn',
    host: (options.host ?? hostname ?? DEFAULT_CANVAS_HOST).toLowerCase(),
    shard: shardOf(typeof root === 'string' || typeof root === 'number' ? String(root) : undefined),
    persons: options.persons,
    appIri: appUrl(hostname),
    canvasHttp: hostname && `http://${hostname.toLowerCase()}/`,
  };
}

/** A user id that the map does not hold: where it was (the property path), never the id. */
export interface Unmapped {
  at: string;
}

/**
 * The published IRI of one IRI: a canonical id becomes its platform IRI; the application's
 * `http://<host>/` becomes `https://<host>/` under https; anything else (event ids, an edApp id
 * given by CALIPER_EDAPP_ID, urn:tag:auto-attach, URLs Canvas sent) stays as it is. `unmapped` is
 * told of a user the map does not hold (who then keeps the IRI the style gives without a map).
 */
export function iriOf(iri: string, ctx: IriContext, unmapped?: () => void): string {
  if (!iri.startsWith(URN_PREFIX)) {
    if (ctx.style !== 'https') return iri;
    if (iri === ctx.appIri) return `https://${ctx.host}/`;
    // A Canvas page Canvas named by http (a referrer): the same page over https.
    return ctx.canvasHttp && iri.toLowerCase().startsWith(ctx.canvasHttp) ? `https://${iri.slice('http://'.length)}` : iri;
  }
  const rest = iri.slice(URN_PREFIX.length);
  const colon = rest.indexOf(':');
  const kind = colon > 0 ? rest.slice(0, colon) : '';
  const id = colon > 0 ? rest.slice(colon + 1) : '';
  if (kind === 'user' && ctx.persons && !id.includes(':')) {
    const person = ctx.persons.lookup(id, ctx.shard);
    if (person) return person;
    unmapped?.();
  }
  if (ctx.style === 'urn') return iri;
  const global = globalId(id, ctx.shard);
  const route = CANVAS_ROUTES[kind];
  if (route && /^\d+$/.test(global)) return `https://${ctx.host}/${route}/${global}`;
  // A section is named inside its course: `course:<course>:section:<section>`, Canvas's route too.
  const section = kind === 'course' ? /^([^:]+):section:([^:]+)$/.exec(id) : null;
  if (section) {
    const [course, sec] = [globalId(section[1]!, ctx.shard), globalId(section[2]!, ctx.shard)];
    if (/^\d+$/.test(course) && /^\d+$/.test(sec)) return `https://${ctx.host}/courses/${course}/sections/${sec}`;
  }
  return nameUuid(globalName(kind, id, ctx));
}

/** The canonical id with its ids global: the name of a `urn:uuid:`, the same for every form of one id. */
const globalName = (kind: string, id: string, ctx: IriContext): string => `${URN_PREFIX}${kind}:${id.split(':').map((part) => globalId(part, ctx.shard)).join(':')}`;

/**
 * A Score Instructure names by what was scored (grade_change: the submission; an outcome result: the
 * result): under https it gets a `urn:uuid:` of its own, so that the Score and its Attempt are two
 * entities to a platform that keeps entities by id.
 */
function scoreIri(iri: string, ctx: IriContext): string | undefined {
  if (ctx.style !== 'https' || !iri.startsWith(URN_PREFIX)) return undefined;
  const rest = iri.slice(URN_PREFIX.length);
  const colon = rest.indexOf(':');
  const kind = rest.slice(0, colon);
  return colon > 0 && kind !== 'score' ? nameUuid(`${globalName(kind, rest.slice(colon + 1), ctx)}#score`) : undefined;
}

/** The properties that hold an entity or an IRI, in any of our formats. */
const holdsIri = (property: string): boolean => PROPERTY_KINDS[property] === 'entity' || PROPERTY_KINDS[property] === 'entities' || holdsEntities12(property);

/**
 * Every IRI of the event (its entities' ids and IRI-valued properties, nested; never extensions)
 * replaced by `iriOf`, in place. Returns the paths of users the map does not hold.
 */
export function rewriteIris(event: CaliperEvent, ctx: IriContext): Unmapped[] {
  const unmapped: Unmapped[] = [];
  const iri = (value: string, at: string) => iriOf(value, ctx, () => unmapped.push({ at }));
  const walk = (value: unknown, at: string): unknown => {
    if (typeof value === 'string') return iri(value, at);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = walk(value[i], `${at}[${i}]`);
      return value;
    }
    if (value === null || typeof value !== 'object') return value;
    const entity = value as Entity;
    if (typeof entity.id === 'string') entity.id = (entity.type === 'Score' && scoreIri(entity.id, ctx)) || iri(entity.id, at);
    for (const key of Object.keys(entity)) if (key !== 'extensions' && key !== 'id' && holdsIri(key)) entity[key] = walk(entity[key], `${at}.${key}`);
    return entity;
  };
  for (const prop of EVENT_ENTITY_PROPERTIES) if (event[prop] !== undefined) event[prop] = walk(event[prop], prop) as never;
  // A referrer on another host by plain http is no IRI a platform that takes https only accepts: it
  // stays in the event's extensions.
  if (ctx.style === 'https' && typeof event.referrer === 'string' && !event.referrer.startsWith('https://')) {
    setData(canvasExtensionsOf(event as unknown as Entity), 'referrer', event.referrer);
    delete event.referrer;
  }
  return unmapped;
}
