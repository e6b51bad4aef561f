// The generic mechanisms the strict formats share: walking every entity of an event, moving the
// properties an entity type does not define into that entity's `com.instructure.canvas` extensions,
// and putting every raw body field that the output does not hold yet into the extensions of the
// entity the body describes. Each format supplies its own vocabulary (which properties a type has,
// which properties hold entities) as tables; these functions only apply them.
import type { CaliperEvent, Entity } from '../caliper/model.js';
import { bodyFields, EXT } from '../../mappers/builders.js';
import { URN_PREFIX } from '../../mappers/ids.js';

/** The event properties that hold an entity (or an IRI). */
export const EVENT_ENTITY_PROPERTIES = ['actor', 'object', 'generated', 'target', 'referrer', 'edApp', 'group', 'membership', 'session', 'federatedSession'] as const;

export const isEntity = (v: unknown): v is Entity =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as Entity).type === 'string' && typeof (v as Entity).id === 'string';

/**
 * Calls `visit` for every entity object of the event, outermost first: the event's entity properties,
 * then (after the visit, so a visit may retype or restructure) every property of that entity that
 * `holdsEntities` says holds entities. Extensions are never entered.
 */
export function forEachEntity(event: CaliperEvent, holdsEntities: (property: string) => boolean, visit: (entity: Entity, at: string) => void): void {
  const walk = (value: unknown, at: string): void => {
    if (Array.isArray(value)) return value.forEach((item, i) => walk(item, `${at}[${i}]`));
    if (!isEntity(value)) return;
    visit(value, at);
    for (const key of Object.keys(value)) if (key !== 'extensions' && holdsEntities(key)) walk(value[key], `${at}.${key}`);
  };
  for (const prop of EVENT_ENTITY_PROPERTIES) walk(event[prop], prop);
}

/** The entity's `com.instructure.canvas` extensions, created when absent. */
export function canvasExtensionsOf(entity: Entity): Record<string, unknown> {
  const extensions = (entity.extensions ??= {}) as Record<string, unknown>;
  return (extensions[EXT] ??= {}) as Record<string, unknown>;
}

/** Sets a key that may be `__proto__` as data (as bodyFields does). */
export function setData(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The Canvas kind of an `urn:instructure:canvas:<kind>:<id>` id (`groupCategory`, `sis_batch`, …), else undefined. */
export function urnKind(id: string): string | undefined {
  if (!id.startsWith(URN_PREFIX)) return undefined;
  const rest = id.slice(URN_PREFIX.length);
  const colon = rest.indexOf(':');
  return colon > 0 ? rest.slice(0, colon) : undefined;
}

export interface PropertyRules {
  /** Every property an entity of this type may have (its own and its supertypes'). */
  allowed(type: string): ReadonlySet<string>;
  /** The longest string a property may hold, when the format limits it. */
  maxLength?: (property: string) => number | undefined;
  /** A property an entity type does not have but names under another term (Group.isPartOf → subOrganizationOf). */
  renamed?: (type: string, property: string) => string | undefined;
}

/**
 * Properties an entity type does not define (or strings longer than the format allows) move into that
 * entity's `com.instructure.canvas` extensions under their property name. `fromBody` names, for the
 * entity the body describes, the property each body field fed: such a property is dropped instead, and
 * returned, so that its body field goes into the extensions under its Canvas name.
 */
export function moveUndefinedProperties(entity: Entity, rules: PropertyRules, fromBody?: ReadonlySet<string>): Set<string> {
  const dropped = new Set<string>();
  const allowed = rules.allowed(entity.type);
  for (const key of Object.keys(entity)) {
    const value = entity[key];
    const tooLong = typeof value === 'string' && value.length > (rules.maxLength?.(key) ?? Infinity);
    if (allowed.has(key) && !tooLong) continue;
    if (key === 'id' || key === 'type') continue;
    const renamed = !tooLong ? rules.renamed?.(entity.type, key) : undefined;
    delete entity[key];
    if (renamed && allowed.has(renamed) && entity[renamed] === undefined) entity[renamed] = value;
    else if (fromBody?.has(key)) dropped.add(key);
    else {
      const ext = canvasExtensionsOf(entity);
      if (!(key in ext)) setData(ext, key, value);
    }
  }
  return dropped;
}

/**
 * Every top-level body field that is not yet in the output goes into the entity's
 * `com.instructure.canvas` extensions under its Canvas name (bodyFields: timestamps normalised, URL
 * query values not on Canvas's allowlist masked; the body holds known fields only, src/known-fields.ts). A field is in the output when the extensions hold
 * its name, or when `placed` names it (a Caliper property the entity kept).
 */
export function addBodyFields(entity: Entity, body: Record<string, unknown>, placed: readonly string[]): void {
  const fields = bodyFields(body, placed);
  const keys = Object.keys(fields);
  if (!keys.length) return;
  const ext = canvasExtensionsOf(entity);
  for (const key of keys) if (!Object.prototype.hasOwnProperty.call(ext, key)) setData(ext, key, fields[key]);
}

/** The order IMS's documents write an event's properties in (JSON keeps insertion order). */
const EVENT_ORDER = ['@context', 'id', 'type', 'profile', 'actor', 'action', 'object', 'eventTime', 'edApp', 'generated', 'target', 'referrer', 'group', 'membership', 'session', 'federatedSession', 'extensions'];
export function ordered(event: CaliperEvent): CaliperEvent {
  const out: Record<string, unknown> = {};
  for (const key of EVENT_ORDER) if (event[key] !== undefined) out[key] = event[key];
  for (const key of Object.keys(event)) if (!(key in out)) setData(out, key, event[key]);
  return out as CaliperEvent;
}
